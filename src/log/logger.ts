import pino, { type Logger } from 'pino';
import { PrettyStream } from './pretty-stream';

export type { Logger };

/** Paths whose values never reach a log line, whatever the level. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["x-slack-signature"]',
  'privateKey',
  '*.privateKey',
  'env.SLACK_BOT_TOKEN',
  'env.SLACK_SIGNING_SECRET',
  'env.SLACK_APP_TOKEN',
  'env.JIRA_API_TOKEN',
  'env.JIRA_WEBHOOK_SECRET',
  'env.PAGERDUTY_TOKEN',
  'env.PAGERDUTY_WEBHOOK_SECRET',
];

/**
 * Human-readable lines when stderr is a terminal (a person is watching), JSON otherwise (a log
 * pipeline is): LOG_FORMAT=json or pretty decides when set.
 */
export function wantsPrettyLogs(format: string | undefined, stderrIsTty: boolean = process.stderr.isTTY === true): boolean {
  if (format === 'json') return false;
  if (format === 'pretty') return true;
  return stderrIsTty;
}

export function createLogger(
  options: { level?: string; name?: string; destination?: pino.DestinationStream; pretty?: boolean } = {},
): Logger {
  return pino(
    {
      name: options.name ?? 'access-bot',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ??
      (options.pretty ? new PrettyStream(process.stderr, process.stderr.isTTY === true) : pino.destination({ dest: 2, sync: false })),
  );
}

/** A logger that drops everything: for tests and CLI commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
