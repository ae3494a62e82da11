import { AppContext } from '../app/app-context';
import { startAuditSinks } from '../app/audit-sinks';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { hasCa, initCa } from '../ca/ca-directory';
import { x509CaFingerprint } from '../ca/certificate-signer';
import { startBotProcess } from '../app/bot-process';
import type { RunningProcess } from '../app/running-process';
import { startWorkerHttp } from '../app/worker-http';
import { startWorkerProcess } from '../app/worker-process';
import { describeIntegrations, loadEnv } from '../config/env';
import { createJiraIntegration, jiraWorkflows } from '../jira/jira-integration';
import { createLogger, wantsPrettyLogs } from '../log/logger';
import { createPagerDutyIntegration } from '../pagerduty/pagerduty-integration';
import { pagerDutyReferences } from '../pagerduty/pagerduty-startup-check';
import { createSlackIntegration, createSlackOutbound } from '../slack/slack-integration';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals } from './parse-options';
import { UsageError } from './usage-error';

const HELP = {
  start: `Usage: access-bot start [--port N]

Runs the bot and the CA worker in one process (the default for a small team). On its first start it
creates a CA in $CA_DIR. Settings come from the environment (README: Configuration).

Options:
  --port N    the HTTP port of the bot (default: $PORT, else 3000)
  -h, --help  show this help
`,
  serve: `Usage: access-bot serve [--port N]

Runs the bot: Slack, webhooks and HTTP endpoints. Holds no CA key. Settings come from the
environment (README: Configuration).

Options:
  --port N    the HTTP port (default: $PORT, else 3000)
  -h, --help  show this help
`,
  worker: `Usage: access-bot worker

Runs the CA worker: signs and revokes certificates, fires timers. The only process reading CA keys.
It answers /healthz, /readyz and /metrics on $WORKER_PORT (default 3001). Settings come from the
environment (README: Configuration).

Options:
  -h, --help  show this help
`,
};

type Role = keyof typeof HELP;

/** The command line of start, serve and worker: only --help, and --port where there is an HTTP listener. */
function parseRunOptions(role: Role, args: string[]): { help: boolean; port?: number } {
  const { values, positionals } = parseOptions(
    {
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...(role === 'worker' ? {} : { port: { type: 'string' } }) },
      allowPositionals: true,
      strict: true,
    },
    HELP[role],
  );
  rejectPositionals(positionals, HELP[role]);
  const raw = (values as { port?: string }).port;
  if (raw === undefined) return { help: values.help === true };
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65535) throw new UsageError(`--port "${raw}" is not a port number (0-65535).\n\n${HELP[role]}`);
  return { help: values.help === true, port };
}

/** Runs until SIGTERM or SIGINT, then finishes work in hand and exits 0. SIGHUP reloads configuration. */
async function run(role: Role, args: string[], io: CliIo): Promise<number> {
  const options = parseRunOptions(role, args);
  if (options.help) {
    io.stdout.write(HELP[role]);
    return EXIT.OK;
  }
  const loaded = loadEnv(io.env);
  const env = options.port !== undefined ? { ...loaded, PORT: options.port } : loaded;
  const logger = createLogger({ level: env.LOG_LEVEL, name: `access-bot-${role}`, pretty: wantsPrettyLogs(env.LOG_FORMAT) });
  for (const line of describeIntegrations(env)) logger.info(line);
  if (!env.slack && role !== 'worker')
    logger.warn('Slack is off, so nobody can ask for access yet: connect it with docs/slack.md (meanwhile `access-bot cert sign` issues certificates)');
  if (env.slack?.signingSecret && env.PUBLIC_URL && role !== 'worker')
    logger.info(`Slack request URL (for the app manifest): ${new URL('/slack/events', env.PUBLIC_URL).toString()}`);

  // Listen for SIGTERM before anything starts: one that arrives while starting (say, as soon as
  // /healthz answers) is then a clean stop once started, not the default kill.
  const running: RunningProcess[] = [];
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading configuration');
      for (const p of running) p.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
    });
  });

  const ctx = await AppContext.create(env, logger);
  try {
    running.push(await startAuditSinks(ctx, role));
    // PagerDuty in every role: the bot decides break-glass, the worker re-checks it before signing.
    const pagerduty = env.pagerduty ? createPagerDutyIntegration(ctx, env.pagerduty) : undefined;
    if (pagerduty) for (const line of await pagerduty.check()) logger.info(line);
    else if (role !== 'serve' && pagerDutyReferences(ctx.policy).services.length > 0)
      logger.warn('pagerduty: off in this worker, but workflows name PagerDuty services: break-glass and incident grants will be refused at issuance');
    if (role === 'start' && !hasCa(env.CA_DIR)) await createFirstCa(ctx);
    // Slack's outgoing side goes on ctx before the worker starts: its first timers may send messages.
    const slack = env.slack && role !== 'worker' ? createSlackIntegration(ctx, env.slack) : undefined;
    if (env.slack && role === 'worker') await createSlackOutbound(ctx, env.slack).start();
    // Jira after Slack: it wraps the notifier Slack set, to follow each request's issue.
    const jira = env.jira ? createJiraIntegration(ctx, env.jira) : undefined;
    if (jira) {
      running.push({ stop: () => jira.close(), reload: async () => undefined });
      for (const line of (await jira.check()).lines) logger.info(line);
    } else if (jiraWorkflows(ctx.policy).length > 0)
      logger.warn(
        `JIRA IS OFF, but workflows approve in Jira (${jiraWorkflows(ctx.policy).join(', ')}): their requests go to the approvers by Slack DM instead, and the messages say so. Set JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_WEBHOOK_SECRET (docs/jira.md).`,
      );
    if (role !== 'serve') {
      const worker = await startWorkerProcess(ctx);
      running.push(worker);
      // `start` answers health and metrics on the bot's port; a lone worker has its own.
      if (role === 'worker') running.push(await startWorkerHttp(ctx, () => worker.running()));
    }
    if (role !== 'worker') {
      running.push(await startBotProcess(ctx, [...(slack ? [slack.mount] : []), ...(pagerduty ? [pagerduty.mount] : []), ...(jira ? [jira.mount] : [])]));
      if (jira) {
        const stopJira = await jira.startBot();
        running.push({ stop: stopJira, reload: async () => undefined });
      }
      if (pagerduty) {
        const stopSweeper = pagerduty.startSweeper();
        running.push({ stop: async () => stopSweeper(), reload: async () => undefined });
      }
    }
    if (slack) {
      await slack.start();
      running.push({ stop: () => slack.stop(), reload: async () => undefined });
    }
  } catch (err) {
    await Promise.allSettled(running.map((p) => p.stop()));
    await ctx.close();
    throw err;
  }

  await stopped;
  await Promise.allSettled(running.reverse().map((p) => p.stop()));
  await ctx.close();
  logger.flush();
  return EXIT.OK;
}

/**
 * `start` is the one-process install for a small team: on its first start it creates the CA, so
 * `npm start` works on a fresh machine. `worker` never does: production CAs are made on purpose.
 */
async function createFirstCa(ctx: AppContext): Promise<void> {
  const ca = initCa(ctx.env.CA_DIR);
  const data = { dir: ctx.env.CA_DIR, ssh: ca.ssh.fingerprint, x509: x509CaFingerprint(ca.x509), firstStart: true };
  ctx.logger.warn(data, 'no CA found, so created one (private keys mode 0600): back them up; `access-bot ca show` prints it');
  await ctx.audit.append([{ type: AUDIT_EVENT_TYPES.caCreated, actor: { id: 'system', via: 'system' }, data }], Date.now());
}

export const startCommand: CliCommand = (args, io) => run('start', args, io);
export const serveCommand: CliCommand = (args, io) => run('serve', args, io);
export const workerCommand: CliCommand = (args, io) => run('worker', args, io);
