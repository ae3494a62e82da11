import { AppContext } from '../app/app-context';
import { startAuditSinks } from '../app/audit-sinks';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { hasCa, initCa } from '../ca/ca-directory';
import { x509CaFingerprint } from '../ca/certificate-signer';
import { startBotProcess } from '../app/bot-process';
import type { RunningProcess } from '../app/running-process';
import { startWorkerProcess } from '../app/worker-process';
import { describeIntegrations, loadEnv } from '../config/env';
import { createLogger } from '../log/logger';
import { createSlackIntegration, createSlackOutbound } from '../slack/slack-integration';
import { EXIT, type CliCommand, type CliIo } from './cli-io';

const HELP = {
  start: 'Usage: access-bot start\n\nRuns the bot and the CA worker in one process (the default for a small team).\n',
  serve: 'Usage: access-bot serve\n\nRuns the bot: Slack, webhooks and HTTP endpoints. Holds no CA key.\n',
  worker: 'Usage: access-bot worker\n\nRuns the CA worker: signs and revokes certificates, fires timers. The only process reading CA keys.\n',
};

type Role = keyof typeof HELP;

/** Runs until SIGTERM or SIGINT, then finishes work in hand and exits 0. SIGHUP reloads configuration. */
async function run(role: Role, args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(HELP[role]);
    return EXIT.OK;
  }
  const env = loadEnv(io.env);
  const logger = createLogger({ level: env.LOG_LEVEL, name: `access-bot-${role}` });
  for (const line of describeIntegrations(env)) logger.info(line);

  const ctx = await AppContext.create(env, logger);
  const running: RunningProcess[] = [];
  try {
    running.push(await startAuditSinks(ctx, role));
    if (role === 'start' && !hasCa(env.CA_DIR)) await createFirstCa(ctx);
    // Slack's outgoing side goes on ctx before the worker starts: its first timers may send messages.
    const slack = env.slack && role !== 'worker' ? createSlackIntegration(ctx, env.slack) : undefined;
    if (env.slack && role === 'worker') await createSlackOutbound(ctx, env.slack).start();
    if (role !== 'serve') running.push(await startWorkerProcess(ctx));
    if (role !== 'worker') running.push(await startBotProcess(ctx, slack ? [slack.mount] : []));
    if (slack) {
      await slack.start();
      running.push({ stop: () => slack.stop(), reload: async () => undefined });
    }
  } catch (err) {
    await Promise.allSettled(running.map((p) => p.stop()));
    await ctx.close();
    throw err;
  }

  await new Promise<void>((resolve) => {
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
