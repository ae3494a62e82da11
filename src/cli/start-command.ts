import { AppContext } from '../app/app-context';
import { startBotProcess } from '../app/bot-process';
import type { RunningProcess } from '../app/running-process';
import { startWorkerProcess } from '../app/worker-process';
import { describeIntegrations, loadEnv } from '../config/env';
import { createLogger } from '../log/logger';
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
    if (role !== 'serve') running.push(await startWorkerProcess(ctx));
    if (role !== 'worker') running.push(await startBotProcess(ctx));
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

export const startCommand: CliCommand = (args, io) => run('start', args, io);
export const serveCommand: CliCommand = (args, io) => run('serve', args, io);
export const workerCommand: CliCommand = (args, io) => run('worker', args, io);
