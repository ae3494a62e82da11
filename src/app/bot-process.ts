import { caRoutes } from '../http/ca-routes';
import { createHttpServer, type HttpServer } from '../http/http-server';
import type { AppContext } from './app-context';
import type { RunningProcess } from './running-process';

export interface BotProcess extends RunningProcess {
  http: HttpServer;
  port: number;
}

/** Extra HTTP surfaces (Slack's /slack/events, webhooks) mounted by the integrations that are on. */
export type HttpMount = (http: HttpServer) => Promise<void> | void;

/**
 * `access-bot serve`: HTTP (health, readiness, public CA material, integration routes) and the
 * chat front end. It holds no CA key: certificates are made by the worker.
 */
export async function startBotProcess(ctx: AppContext, mounts: HttpMount[] = [], port = ctx.env.PORT): Promise<BotProcess> {
  const http = createHttpServer({
    logger: ctx.logger,
    metrics: ctx.metrics,
    readiness: async () => {
      const checks: Record<string, string> = { redis: await ctx.redisCheck() };
      checks.ca = (await ctx.published.read().catch(() => undefined)) ? 'published' : 'not published yet (is a worker running?)';
      if (ctx.archiveStatus) checks.auditArchive = await ctx.archiveStatus().catch((err: Error) => `down: ${err.message}`);
      checks.workflows = `${ctx.policy.resources.size} resources (${ctx.policy.hash.slice(0, 12)})`;
      return { ready: checks.redis === 'ok', checks };
    },
  });
  http.mount('/ca', caRoutes(ctx.published));
  for (const mount of mounts) await mount(http);
  const { port: bound } = await http.listen(port, ctx.env.HOST);
  await ctx.auditConfigLoaded('bot');
  ctx.logger.info({ port: bound }, 'bot listening');
  return {
    http,
    port: bound,
    stop: () => http.close(),
    reload: async () => {
      await ctx.reloadPolicy('bot');
    },
  };
}
