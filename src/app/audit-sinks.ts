import { hostname } from 'node:os';
import { AuditShipper } from '../audit/audit-shipper';
import { JsonlSink } from '../audit/sinks/jsonl-sink';
import { WebhookSink } from '../audit/sinks/webhook-sink';
import type { AppContext } from './app-context';
import { createRedis } from './redis-connection';
import type { RunningProcess } from './running-process';

/**
 * Starts a shipper for each configured audit sink (AUDIT_LOG_FILE, AUDIT_WEBHOOK_URL). Each has a
 * blocking Redis connection of its own and joins the sink's consumer group under this process's
 * name, so replicas share the stream and every event is shipped once.
 */
export async function startAuditSinks(ctx: AppContext, processName: string): Promise<RunningProcess> {
  const { env, logger } = ctx;
  const sinks = [
    ...(env.AUDIT_LOG_FILE ? [new JsonlSink(env.AUDIT_LOG_FILE)] : []),
    ...(env.AUDIT_WEBHOOK_URL ? [new WebhookSink(env.AUDIT_WEBHOOK_URL, env.AUDIT_WEBHOOK_SECRET)] : []),
  ];
  const running = await Promise.all(
    sinks.map(async (sink) => {
      const connection = createRedis(env.REDIS_URL, {
        forBlocking: true,
        name: `access-bot-audit-${sink.name}`,
        ...(env.redisTls ? { tls: env.redisTls } : {}),
      });
      const shipper = new AuditShipper(connection, ctx.keys, sink, logger, { consumer: `${hostname()}-${process.pid}-${processName}` });
      await shipper.start();
      return { shipper, connection };
    }),
  );
  return {
    stop: async () => {
      for (const { shipper, connection } of running) {
        await shipper.stop();
        connection.disconnect();
      }
    },
    reload: async () => {},
  };
}
