import type { App } from '@slack/bolt';
import type { AppContext } from '../app/app-context';
import type { HttpMount } from '../app/bot-process';
import type { SlackSettings } from '../config/env';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { RateLimitedAudit } from '../audit/rate-limited-audit';
import type { HttpServer } from '../http/http-server';
import type { Logger } from '../log/logger';
import { accessReviewService } from '../access-review/access-review-factory';
import { AccessReviewActions } from './actions/access-review-actions';
import { ClickerReply } from './actions/clicker-reply';
import { DecisionActions } from './actions/decision-actions';
import { GrantActions } from './actions/grant-actions';
import { AppHome } from './app-home';
import { AccessCommandHandler } from './commands/access-command';
import { SlackApiError } from './errors/slack-api-error';
import { SlackAuthError } from './errors/slack-auth-error';
import { SlackTransportConfigError } from './errors/slack-transport-config-error';
import { BreakGlassReviewModal } from './modals/break-glass-review-modal';
import { DenyReasonModal } from './modals/deny-reason-modal';
import { RequestModal } from './modals/request-modal';
import { SlackDirectory } from './slack-directory';
import { SlackMessageRefs } from './slack-message-refs';
import { SlackNotifier } from './slack-notifier';
import { SlackCallStats } from './slack-call-stats';
import { SlackRateGate } from './slack-rate-gate';
import { SlackWorkQueue } from './slack-work-queue';
import { RedisReplayLedger } from './slack-replay-ledger';
import { SlackReviewPoster } from './slack-review-poster';
import { UserChangeHandler } from './user-change-handler';
import { createSlackApp, type SlackTransport } from './slack-transport';
import { callSlack, createSlackWebClient, type WebClient } from './slack-web-api';

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission', 'missing_scope']);

/** Slack as a process without a receiver (the worker) uses it: who people are, and the messages sent to them. */
export interface SlackOutbound {
  readonly client: WebClient;
  /** Checks the bot token (auth.test): a worker with a bad token would fail every DM silently. */
  start(): Promise<void>;
}

/** Slack in the bot: the Bolt app with every handler, on the bot's HTTP server or over Socket Mode. */
export interface SlackIntegration {
  /** For startBotProcess: mounts /slack/events on its HTTP server (HTTP mode; nothing in Socket Mode). */
  readonly mount: HttpMount;
  /** Checks the bot token, then takes Slack requests (opens the socket in Socket Mode). */
  start(): Promise<void>;
  /** Stops taking requests and lets handlers working after their ack finish. */
  stop(): Promise<void>;
  /** The Bolt transport once built: at once in Socket Mode or when given an HTTP server, else at mount. */
  readonly transport: SlackTransport | undefined;
  readonly outbound: SlackOutbound;
}

/**
 * Sets `ctx.directory` (users.info, user groups) and `ctx.notifier` (approval messages, DMs) to
 * their Slack implementations on a plain WebClient, which is all the worker needs for reminders,
 * escalations, certificate delivery and expiry notices.
 */
export function createSlackOutbound(ctx: AppContext, settings: SlackSettings): SlackOutbound {
  const gate = (ctx.slackGate ??= new SlackRateGate({ logger: ctx.logger, scale: settings.rateScale, stats: new SlackCallStats(ctx.metrics) }));
  // Under the gate, the metrics' fetch counts every HTTP attempt (429s included) by method.
  const common = { botToken: settings.botToken, logger: ctx.logger, gate, fetch: ctx.externalCalls.slackFetch(), ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}) };
  const client = createSlackWebClient(common);
  ctx.directory = new SlackDirectory({ client, oncall: ctx.oncallPort, logger: ctx.logger });
  ctx.notifier = SlackNotifier.forContext(ctx, client);
  // Certificates first: their own client (own queue, first in line at the gate), never behind updates.
  ctx.deliveryNotifier = SlackNotifier.forContext(ctx, createSlackWebClient({ ...common, lane: 'priority' }));
  ctx.reviewPoster = new SlackReviewPoster(client, ctx.directory, () => ctx.policy);
  const refs = new SlackMessageRefs(ctx.redis, ctx.keys);
  ctx.slackMessageLink = async (requestId) => {
    const copy = (await refs.list(requestId)).find((r) => r.kind === 'channel');
    if (!copy) return undefined;
    const answer = await callSlack('chat.getPermalink', () => client.chat.getPermalink({ channel: copy.channel, message_ts: copy.ts }));
    const link = (answer as { permalink?: unknown }).permalink;
    return typeof link === 'string' && /^https:\/\//.test(link) ? link : undefined;
  };
  return {
    client,
    async start() {
      try {
        await callSlack('auth.test', () => client.auth.test());
      } catch (err) {
        if (err instanceof SlackApiError && AUTH_ERRORS.has(err.slackError)) throw new SlackAuthError(err.slackError, { cause: err });
        throw err;
      }
      ctx.logger.info('Slack: outgoing messages on (no receiver in this process)');
    },
  };
}

/** Commands and approvals worked at once per bot after their ack (measured by the benchmark: more only slows the acks). */
const SLACK_WORK_CONCURRENCY = 8;

/** Every listener of the interactive side, on one Bolt app. */
export function registerSlackHandlers(ctx: AppContext, app: App, logger: Logger): void {
  const home = new AppHome(ctx, app.client, logger);
  const requestModal = new RequestModal(ctx, home, logger);
  const denyModal = new DenyReasonModal(ctx, home, logger);
  const reply = new ClickerReply(app.client, home, logger);
  const work = new SlackWorkQueue(SLACK_WORK_CONCURRENCY, ctx.metrics);
  new AccessCommandHandler(ctx, requestModal, home, logger, work).register(app);
  requestModal.register(app);
  denyModal.register(app);
  new DecisionActions(ctx, home, reply, denyModal, logger, work).register(app);
  new GrantActions(ctx, home, reply, requestModal, logger).register(app);
  new AccessReviewActions(accessReviewService(ctx), reply, logger).register(app);
  new BreakGlassReviewModal(ctx, home, logger).register(app);
  new UserChangeHandler(ctx.offboarding, logger).register(app);
  home.register(app);
}

/**
 * Slack for `serve` and `start`. The outgoing side is set on `ctx` at once (a worker in the same
 * process needs it from its first job); the Bolt app needs the HTTP server in HTTP mode, so without
 * one it is built when startBotProcess calls `mount`.
 */
export function createSlackIntegration(ctx: AppContext, settings: SlackSettings, httpServer?: HttpServer): SlackIntegration {
  const logger = ctx.logger.child({ component: 'slack' });
  const outbound = createSlackOutbound(ctx, settings);
  const httpMode = Boolean(settings.signingSecret);
  let transport: SlackTransport | undefined;

  // Anyone who can reach /slack/events can send forged requests: audit them, but boundedly.
  const signatureAudit = new RateLimitedAudit(ctx.audit);
  const build = (http: HttpServer | undefined) => {
    transport = createSlackApp({
      botToken: settings.botToken,
      logger: ctx.logger,
      fetch: ctx.externalCalls.slackFetch(),
      onSignatureRefused: (reason, remoteAddress) => {
        signatureAudit
          .append({
            type: AUDIT_EVENT_TYPES.signatureRefused,
            actor: { id: 'unknown', via: 'slack' },
            data: { source: 'slack', reason, remoteAddress },
          })
          .catch((err: unknown) => logger.error({ err }, 'could not audit a refused Slack signature'));
      },
      replays: new RedisReplayLedger(ctx.redis, ctx.keys),
      ...(ctx.slackGate ? { gate: ctx.slackGate } : {}),
      ...(settings.signingSecret ? { signingSecret: settings.signingSecret } : {}),
      ...(settings.appToken ? { appToken: settings.appToken } : {}),
      ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
      ...(http ? { httpServer: http } : {}),
    });
    registerSlackHandlers(ctx, transport.app, logger);
  };
  if (!httpMode || httpServer) build(httpServer);

  return {
    outbound,
    get transport() {
      return transport;
    },
    mount: (http) => {
      if (!transport) build(http);
    },
    async start() {
      if (!transport) throw new SlackTransportConfigError('Slack HTTP mode: mount the integration on the HTTP server before start()');
      await transport.start();
    },
    async stop() {
      await transport?.stop();
    },
  };
}
