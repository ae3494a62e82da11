import { hostname } from 'node:os';
import { AuditShipper } from '../audit/audit-shipper';
import { ArchiveLagMonitor } from '../audit/postgres/archive-lag-monitor';
import { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import type { AuditSink } from '../audit/sinks/audit-sink';
import { JsonlSink } from '../audit/sinks/jsonl-sink';
import { PostgresSink } from '../audit/sinks/postgres-sink';
import { WebhookSink } from '../audit/sinks/webhook-sink';
import { RetentionSweeper } from '../retention/retention-sweeper';
import type { AppContext } from './app-context';
import { createRedis } from './redis-connection';
import type { RunningProcess } from './running-process';

const RETENTION_SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Starts a shipper for each configured audit sink (AUDIT_LOG_FILE, AUDIT_WEBHOOK_URL,
 * AUDIT_DATABASE_URL). Each has a blocking Redis connection of its own and joins the sink's
 * consumer group under this process's name, so replicas share the stream and every event is
 * shipped once. Retention (AUDIT_REDIS_RETENTION, REQUEST_RETENTION) runs here too.
 */
export async function startAuditSinks(ctx: AppContext, processName: string): Promise<RunningProcess> {
  const { env, logger } = ctx;
  const sinks: AuditSink[] = [
    ...(env.AUDIT_LOG_FILE ? [new JsonlSink(env.AUDIT_LOG_FILE)] : []),
    ...(env.AUDIT_WEBHOOK_URL ? [new WebhookSink(env.AUDIT_WEBHOOK_URL, env.AUDIT_WEBHOOK_SECRET)] : []),
  ];
  let archive: PostgresAuditArchive | undefined;
  let monitor: ArchiveLagMonitor | undefined;
  if (env.AUDIT_DATABASE_URL) {
    archive = new PostgresAuditArchive(env.AUDIT_DATABASE_URL);
    try {
      // `start` (one process, a small team) migrates on first use; `serve` and `worker` expect `db migrate`.
      await archive.ensureSchema({ migrate: processName === 'start', logger });
    } catch (err) {
      await archive.close();
      throw err;
    }
    const sink = new PostgresSink(archive, logger, false);
    sinks.push(sink);
    monitor = new ArchiveLagMonitor(archive, ctx.audit, logger);
    ctx.archiveStatus = () => monitor!.describe();
  }
  const consumer = `${hostname()}-${process.pid}-${processName}`;
  const running = await Promise.all(
    sinks.map(async (sink) => {
      const connection = createRedis(env.REDIS_URL, {
        forBlocking: true,
        name: `access-bot-audit-${sink.name}`,
        ...(env.redisTls ? { tls: env.redisTls } : {}),
      });
      const shipper = new AuditShipper(connection, ctx.keys, sink, logger, { consumer });
      await shipper.start();
      return { shipper, connection };
    }),
  );
  monitor?.start();

  const retentionConnection = createRedis(env.REDIS_URL, { name: 'access-bot-retention', ...(env.redisTls ? { tls: env.redisTls } : {}) });
  const sweeper = new RetentionSweeper(
    retentionConnection,
    ctx.keys,
    ctx.audit,
    { ...(env.AUDIT_REDIS_RETENTION !== undefined ? { auditMs: env.AUDIT_REDIS_RETENTION } : {}), ...(env.REQUEST_RETENTION !== undefined ? { requestsMs: env.REQUEST_RETENTION } : {}) },
    logger,
    archive ? { archive, group: 'sink-postgres' } : undefined,
  );
  if (sweeper.enabled) sweeper.start(RETENTION_SWEEP_EVERY_MS);

  return {
    stop: async () => {
      monitor?.stop();
      await sweeper.stop();
      retentionConnection.disconnect();
      for (const { shipper, connection } of running) {
        await shipper.stop();
        connection.disconnect();
      }
      await archive?.close();
    },
    reload: async () => {},
  };
}
