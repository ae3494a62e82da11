import { createHttpServer, type HttpServer } from '../http/http-server';
import type { AppContext } from './app-context';
import type { RunningProcess } from './running-process';

export interface WorkerHttp extends RunningProcess {
  http: HttpServer;
  port: number;
}

/**
 * `access-bot worker`'s own small HTTP server on WORKER_PORT: /healthz, /readyz (Redis answers and
 * the BullMQ workers are taking jobs) and /metrics. It serves nothing else: no CA material, no
 * webhooks, so a worker needs no inbound route except from its orchestrator and Prometheus.
 */
export async function startWorkerHttp(ctx: AppContext, workersRunning: () => boolean, port = ctx.env.WORKER_PORT): Promise<WorkerHttp> {
  const http = createHttpServer({
    logger: ctx.logger,
    metrics: ctx.metrics,
    readiness: async () => {
      const checks: Record<string, string> = { redis: await ctx.redisCheck() };
      checks.queues = workersRunning() ? 'taking jobs' : 'stopped';
      checks.workflows = `${ctx.policy.resources.size} resources (${ctx.policy.hash.slice(0, 12)})`;
      return { ready: checks.redis === 'ok' && checks.queues === 'taking jobs', checks };
    },
  });
  const { port: bound } = await http.listen(port, ctx.env.HOST);
  ctx.logger.info({ port: bound }, 'worker health and metrics listening');
  return { http, port: bound, stop: () => http.close(), reload: async () => undefined };
}
