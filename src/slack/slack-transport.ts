import {
  App,
  AuthorizationError,
  ExpressReceiver,
  LogLevel,
  SocketModeReceiver,
  type Logger as BoltLogger,
  type ReceiverProcessEventErrorHandlerArgs,
  type webApi,
} from '@slack/bolt';
import express from 'express';
import type { HttpServer } from '../http/http-server';
import type { Logger } from '../log/logger';
import { SlackApiError } from './errors/slack-api-error';
import { SlackAuthError } from './errors/slack-auth-error';
import { SlackTransportConfigError } from './errors/slack-transport-config-error';
import { SlackUnavailableError } from './errors/slack-unavailable-error';

import type { ReplayLedger } from './slack-replay-ledger';
import type { SlackRateGate } from './slack-rate-gate';
import { slackSignatureGuard, type SignatureRefusal } from './slack-signature-guard';

/** Where Slack sends slash commands, interactivity, options loads and events in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

export type SlackTransportMode = 'http' | 'socket';

export interface SlackTransportOptions {
  botToken: string;
  /** HTTP mode when set (wins over appToken, as in loadEnv's description). */
  signingSecret?: string;
  /** Socket Mode when set and there is no signing secret. */
  appToken?: string;
  /** Web API base, e.g. `http://127.0.0.1:4010/api/`; Slack's own when absent. */
  apiUrl?: string;
  logger: Logger;
  /** Required in HTTP mode: Bolt's route is mounted on it. */
  httpServer?: HttpServer;
  /** Web API retries (p-retry options). Default: 3 retries within a few seconds, rate limits honoured. */
  retryConfig?: webApi.RetryOptions;
  /** Per-call Web API timeout. Default 10 s (the client's own default is none). */
  apiTimeoutMs?: number;
  /** The HTTP client under the WebClient: ExternalCallMetrics.slackFetch() counts every attempt. */
  fetch?: webApi.WebClientOptions['fetch'];
  /** Paces the app client's calls to Slack's rate tiers and honours 429s per method (slack-rate-gate.ts). */
  gate?: SlackRateGate;
  /** How long stop() waits for handlers still working after their ack. Default 10 s. */
  drainTimeoutMs?: number;
  /** HTTP mode: told of every request refused for its signature (to audit it). */
  onSignatureRefused?: (reason: SignatureRefusal, remoteAddress: string | undefined) => void;
  /** Required in HTTP mode: remembers accepted signed requests across replicas, so a replay is refused. */
  replays?: ReplayLedger;
}

export interface SlackTransport {
  /** The Bolt app: register commands, actions, views and events on it. */
  readonly app: App;
  readonly mode: SlackTransportMode;
  /**
   * Checks the bot token (auth.test, which also tells Bolt the bot's own ids), then opens the
   * Socket Mode connection or starts accepting requests at /slack/events.
   */
  start(): Promise<void>;
  /** Stops taking requests, closes the socket, and waits for handlers still working after their ack. */
  stop(): Promise<void>;
  /** True between a successful start() and stop(); for readiness. */
  isRunning(): boolean;
}

const DEFAULT_RETRY: webApi.RetryOptions = { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 4_000, randomize: true };

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission', 'missing_scope']);

/**
 * Bolt and its WebClient log through this. Their debug lines carry whole request bodies (user
 * input, view state), so they show only at LOG_LEVEL=trace; at debug and info they log from info up.
 * setLevel() is a no-op: Bolt, WebClient and SocketModeClient each call it with their own default,
 * and the operator's LOG_LEVEL must win.
 */
function boltLoggerFrom(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack-bolt' });
  if (logger.level === 'trace') child.level = 'debug';
  else if (logger.level === 'debug') child.level = 'info';

  const write = (level: 'debug' | 'info' | 'warn' | 'error', parts: unknown[]) => {
    const err = parts.find((p): p is Error => p instanceof Error);
    const text = parts
      .filter((p) => !(p instanceof Error))
      .map((p) => (typeof p === 'string' ? p : JSON.stringify(p)))
      .join(' ');
    if (err) child[level]({ err }, text || err.message);
    else child[level](text);
  };
  return {
    debug: (...parts: unknown[]) => write('debug', parts),
    info: (...parts: unknown[]) => write('info', parts),
    warn: (...parts: unknown[]) => write('warn', parts),
    error: (...parts: unknown[]) => write('error', parts),
    setLevel: () => undefined,
    getLevel: () => {
      switch (child.level) {
        case 'trace':
        case 'debug':
          return LogLevel.DEBUG;
        case 'info':
          return LogLevel.INFO;
        case 'warn':
          return LogLevel.WARN;
        default:
          return LogLevel.ERROR;
      }
    },
    setName: () => undefined,
  };
}

/**
 * Bolt's default answers 500 but reports the request as not acknowledged, which leaves its 3-second
 * no-ack timer running and logs a misleading "not acknowledged" error. app.error() has already logged
 * the failure; here the request is only answered and marked acknowledged.
 */
async function answerFailedRequest({ error, response }: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  if (response.headersSent) return false;
  response.writeHead(error instanceof AuthorizationError ? 401 : 500);
  response.end();
  return true;
}

function startupError(err: unknown): Error {
  const slackError = SlackApiError.slackErrorOf(err);
  if (slackError !== undefined && AUTH_ERRORS.has(slackError)) return new SlackAuthError(slackError, { cause: err });
  if (slackError !== undefined) return new SlackApiError('auth.test', slackError, { cause: err });
  return new SlackUnavailableError(err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Builds the Bolt app for one workspace.
 *
 * HTTP mode uses an ExpressReceiver given a router of ours, mounted on our express server: Bolt keeps
 * its own raw-body signature check (v0 HMAC, 5-minute window) and url_verification, and Slack traffic
 * shares the port with health, CA and webhook routes. HTTPReceiver would need its own server or a
 * catch-all listener; ExpressReceiver takes a router by design. processBeforeResponse is false: ack()
 * answers Slack at once and the handler keeps running, so slow work goes after the ack.
 *
 * Socket Mode uses a SocketModeReceiver; nothing is mounted on the HTTP server, which still serves
 * health, CA material and webhooks.
 *
 * Nothing is sent to Slack until start(): initialization is deferred so construction is offline and
 * a bad token fails start() with a clear error instead of an unhandled rejection.
 *
 * Redeliveries. Slack retries an Events API delivery (not slash commands, not interactions) up to
 * three times (at once, after 1 min, after 5 min) when it gets no 2xx within 3 s, with headers
 * `x-slack-retry-num` (1..3) and `x-slack-retry-reason` (http_timeout, http_error, connection_failed…).
 * Bolt does not drop them: it copies exactly those two headers into `context.retryNum` and
 * `context.retryReason` (in Socket Mode, from the envelope's retry_attempt/retry_reason) and runs the
 * listeners again; no other request header reaches handlers. We keep processing retries, because
 * the first delivery may have died before doing its work, and rely on idempotent handlers instead:
 * acking at once makes retries rare, request state changes go through the store's compare-and-set,
 * and an App Home publish is the same view twice. Double clicks are not retries but separate
 * requests, made one decision by the same compare-and-set. Retries are logged at info.
 *
 * Replays are not redeliveries: a redelivery is signed anew, a replay is the same bytes, timestamp
 * and signature again. The signature guard accepts each signed request once across replicas (see
 * slack-replay-ledger.ts) and refuses the rest with 401 before Bolt sees them.
 */
export function createSlackApp(options: SlackTransportOptions): SlackTransport {
  const { logger } = options;
  const boltLogger = boltLoggerFrom(logger);
  const mode: SlackTransportMode | undefined = options.signingSecret ? 'http' : options.appToken ? 'socket' : undefined;
  if (!options.botToken) throw new SlackTransportConfigError('Slack needs a bot token (SLACK_BOT_TOKEN)');
  if (mode === undefined)
    throw new SlackTransportConfigError('Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  if (mode === 'http' && !options.httpServer)
    throw new SlackTransportConfigError('Slack HTTP mode needs the HTTP server to mount /slack/events on');
  if (mode === 'http' && !options.replays)
    throw new SlackTransportConfigError('Slack HTTP mode needs a replay ledger (Redis) to refuse replayed requests');

  const clientOptions: webApi.WebClientOptions = {
    retryConfig: options.retryConfig ?? DEFAULT_RETRY,
    timeout: options.apiTimeoutMs ?? 10_000,
    // The gate retries 429s itself after Retry-After; the client's queue must not hold calls back.
    ...(options.gate
      ? { fetch: options.gate.fetch('normal', options.fetch), rejectRateLimitedCalls: true, maxRequestConcurrency: 10_000 }
      : options.fetch
        ? { fetch: options.fetch }
        : {}),
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` } : {}),
  };

  let running = false;
  let receiver: ExpressReceiver | SocketModeReceiver;
  if (mode === 'http') {
    const router = express.Router();
    // Before start() the bot cannot authorize anything; 503 makes Slack retry events instead of losing them.
    router.use(SLACK_EVENTS_PATH, (_req, res, next) => {
      if (running) {
        next();
        return;
      }
      res.status(503).json({ error: 'SLACK_NOT_READY', message: 'The Slack app is not started' });
    });
    router.post(
      SLACK_EVENTS_PATH,
      ...slackSignatureGuard({
        signingSecret: options.signingSecret ?? '',
        onRefused: options.onSignatureRefused ?? (() => undefined),
        replays: options.replays!,
        logger: logger.child({ component: 'slack-signature' }),
      }),
    );
    receiver = new ExpressReceiver({
      signingSecret: options.signingSecret ?? '',
      logger: boltLogger,
      logLevel: boltLogger.getLevel(),
      endpoints: SLACK_EVENTS_PATH,
      router,
      processBeforeResponse: false,
      processEventErrorHandler: answerFailedRequest,
    });
    options.httpServer?.mount('/', router);
  } else {
    receiver = new SocketModeReceiver({
      appToken: options.appToken ?? '',
      logger: boltLogger,
      logLevel: boltLogger.getLevel(),
      // apps.connections.open goes to the same Web API base as every other call.
      installerOptions: { clientOptions: { ...clientOptions } },
    });
  }

  const app = new App({
    token: options.botToken,
    receiver,
    logger: boltLogger,
    logLevel: boltLogger.getLevel(),
    clientOptions,
    deferInitialization: true,
    convoStore: false,
  });

  // Counts listener runs (ack included) so stop() can let slow work after an ack finish.
  let working = 0;
  let onIdle: Array<() => void> = [];
  app.use(async ({ context, next }) => {
    if (context.retryNum !== undefined) {
      logger.info({ retryNum: context.retryNum, retryReason: context.retryReason }, 'Slack redelivered an event');
    }
    working += 1;
    try {
      await next();
    } finally {
      working -= 1;
      if (working === 0) for (const resolve of onIdle.splice(0)) resolve();
    }
  });

  app.error(async (error) => {
    logger.error({ err: error, code: error.code }, 'Slack handler failed');
    // Rethrown so the receiver answers 500 when the handler failed before ack().
    throw error;
  });

  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const drain = () =>
    new Promise<void>((resolve) => {
      if (working === 0) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        logger.warn({ handlers: working }, 'stopping with Slack handlers still running');
        onIdle = onIdle.filter((f) => f !== done);
        resolve();
      }, drainTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      onIdle.push(done);
    });

  return {
    app,
    mode,
    isRunning: () => running,
    async start() {
      if (running) return;
      try {
        await app.init();
      } catch (err) {
        throw startupError(err);
      }
      if (mode === 'socket') await app.start();
      running = true;
      logger.info({ mode }, mode === 'http' ? `Slack: accepting requests at ${SLACK_EVENTS_PATH}` : 'Slack: Socket Mode connected');
    },
    async stop() {
      const wasRunning = running;
      running = false;
      if (wasRunning && mode === 'socket') await app.stop();
      await drain();
    },
  };
}
