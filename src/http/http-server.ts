import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AccessBotError } from '../errors/access-bot-error';
import type { Logger } from '../log/logger';
import type { MetricsRegistry } from '../metrics/metrics-registry';

export interface Readiness {
  ready: boolean;
  /** One line per dependency, e.g. `{ redis: 'ok', slack: 'connecting' }`. Shown to the prober as is. */
  checks: Record<string, string>;
}

export interface HttpServerOptions {
  logger: Logger;
  readiness: () => Promise<Readiness>;
  /** A readiness callback slower than this answers 503 (a hung Redis must not hang the probe). Default 2 s. */
  readinessTimeoutMs?: number;
  /** How long close() lets in-flight requests finish before cutting their sockets. Default 5 s. */
  shutdownGraceMs?: number;
  /** Served at `GET /metrics` (Prometheus text format) when given. */
  metrics?: MetricsRegistry;
}

export interface HttpServer {
  /**
   * The express application. Add routes with mount(), not on `app` directly: anything added to `app`
   * after creation lands behind the JSON 404 handler and is never reached.
   */
  readonly app: Express;
  /** Mounts a router or handler under a path prefix (`'/ca'`, `'/webhooks/jira'`, `'/'` for Bolt's router). */
  mount(path: string, handler: RequestHandler | express.Router): void;
  /** Starts listening; port 0 picks a free port, returned. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to the grace), closes keep-alive sockets at once. */
  close(): Promise<void>;
}

interface ErrorBody {
  error: string;
  message: string;
}

const HTTP_ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

const rawBodies = new WeakMap<Request, Buffer>();

/**
 * Reads the request body as bytes and keeps them for rawBodyOf(), for routes that verify an HMAC
 * signature over the exact bytes before parsing (Jira, PagerDuty). Mount it per route, never globally:
 * Bolt reads the unparsed stream of /slack/events itself to verify Slack's signature.
 */
export function captureRawBody(options: { limit?: string | number } = {}): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: options.limit ?? '1mb' }),
    (req, _res, next) => {
      rawBodies.set(req, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      next();
    },
  ];
}

/** The bytes captureRawBody() read. Throws when the route forgot to mount it (a programming error). */
export function rawBodyOf(req: Request): Buffer {
  const body = rawBodies.get(req);
  if (body === undefined) throw new Error(`captureRawBody() is not mounted for ${req.method} ${req.path}`);
  return body;
}

function sendError(res: Response, status: number, body: ErrorBody): void {
  res.status(status).type('application/json').send(JSON.stringify(body));
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const candidate = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof candidate === 'number' && candidate >= 400 && candidate <= 599 ? candidate : undefined;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger } = options;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2_000;
  const shutdownGraceMs = options.shutdownGraceMs ?? 5_000;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  let closing = false;
  const inFlight = new Set<Response>();

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    inFlight.add(res);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (closing) res.setHeader('Connection', 'close');
    res.on('close', () => {
      inFlight.delete(res);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(ms) };
      if (res.statusCode >= 500) logger.warn(line, 'http request failed');
      else logger.debug(line, 'http request');
      // The socket turns idle only after this tick; then close() can drop it instead of keeping it alive.
      if (closing) setImmediate(() => server?.closeIdleConnections());
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, checks: { readiness: `no answer within ${readinessTimeoutMs} ms` } }), readinessTimeoutMs);
    });
    let result: Readiness;
    try {
      result = await Promise.race([options.readiness(), timedOut]);
    } catch (err) {
      logger.warn({ err }, 'readiness check failed');
      result = { ready: false, checks: { readiness: 'check failed' } };
    } finally {
      clearTimeout(timer);
    }
    if (closing) result = { ready: false, checks: { ...result.checks, server: 'shutting down' } };
    res.status(result.ready ? 200 : 503).json({ ready: result.ready, checks: result.checks });
  });

  if (options.metrics) app.get('/metrics', options.metrics.handler());

  // Everything mounted later goes in here, so it always sits before the 404 and error handlers below.
  const routes = express.Router();
  app.use(routes);

  app.use((req, res) => {
    sendError(res, 404, { error: 'NOT_FOUND', message: `Nothing here: ${req.method} ${req.path}` });
  });

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof AccessBotError) {
      if (err.status >= 500) logger.error({ err, path: req.path }, 'request failed');
      sendError(res, err.status, { error: err.code, message: err.message });
      return;
    }
    const status = statusOf(err);
    if (status !== undefined && status < 500) {
      const code = HTTP_ERROR_CODES[status] ?? 'BAD_REQUEST';
      sendError(res, status, { error: code, message: `Request refused (${code.toLowerCase().replace(/_/g, ' ')})` });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error in request');
    sendError(res, 500, { error: 'INTERNAL', message: 'Internal error' });
  });

  let server: Server | undefined;

  return {
    app,
    mount(path, handler) {
      routes.use(path, handler);
    },
    listen(port, host = '0.0.0.0') {
      if (server) return Promise.reject(new Error('the HTTP server is already listening'));
      const created = createServer(app);
      // Slack and the webhooks open keep-alive connections; a short idle timeout keeps sockets from piling up.
      created.keepAliveTimeout = 5_000;
      server = created;
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => {
          server = undefined;
          reject(err);
        };
        created.once('error', onError);
        created.listen(port, host, () => {
          created.off('error', onError);
          created.on('error', (err) => logger.error({ err }, 'http server error'));
          resolve({ port: (created.address() as AddressInfo).port });
        });
      });
    },
    close() {
      const current = server;
      if (!current) return Promise.resolve();
      closing = true;
      // Responses not yet started tell their client to drop the connection afterwards.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      return new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => {
          if (inFlight.size > 0) logger.warn({ requests: inFlight.size }, 'cutting requests still running at shutdown');
          current.closeAllConnections();
        }, shutdownGraceMs);
        deadline.unref();
        current.close((err) => {
          clearTimeout(deadline);
          server = undefined;
          closing = false;
          if (err) reject(err);
          else resolve();
        });
        current.closeIdleConnections();
      });
    },
  };
}
