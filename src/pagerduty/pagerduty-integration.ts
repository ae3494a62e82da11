import type { AppContext } from '../app/app-context';
import type { HttpMount } from '../app/bot-process';
import { RateLimitedAudit } from '../audit/rate-limited-audit';
import type { PagerDutySettings } from '../config/env';
import { IncidentGrants } from './incident-grants';
import { PagerDutyClient } from './pagerduty-client';
import { PagerDutyOnCall } from './pagerduty-oncall';
import { checkPagerDuty } from './pagerduty-startup-check';
import { PAGERDUTY_WEBHOOK_PATH, pagerDutyWebhookRouter } from './pagerduty-webhook-route';

/** How often open incidents holding grants are re-read (a lost resolve event still ends them). */
export const INCIDENT_SWEEP_MS = 60_000;

export interface PagerDutyIntegration {
  readonly client: PagerDutyClient;
  readonly oncall: PagerDutyOnCall;
  readonly incidents: IncidentGrants;
  /** For startBotProcess: mounts POST /webhooks/pagerduty. */
  readonly mount: HttpMount;
  /** The start-up check: the key, the From user, every service and escalation policy the workflows name. Lines to log. */
  check(): Promise<string[]>;
  /** The bot's periodic re-read of incidents that hold grants. Returns the stop function. */
  startSweeper(intervalMs?: number): () => void;
}

/**
 * PagerDuty for a process: sets `ctx.oncall` (decisions in the bot, the re-check in the worker,
 * on-call context in messages, notes on incidents). The bot also mounts the webhook and sweeps.
 */
export function createPagerDutyIntegration(ctx: AppContext, settings: PagerDutySettings): PagerDutyIntegration {
  const client = new PagerDutyClient({
    token: settings.token,
    apiUrl: settings.apiUrl,
    fromEmail: settings.fromEmail,
    timeoutMs: settings.timeoutMs,
    logger: ctx.logger,
    calls: ctx.externalCalls,
  });
  const oncall = new PagerDutyOnCall({ client, logger: ctx.logger });
  ctx.oncall = oncall;
  const incidents = new IncidentGrants({
    policy: () => ctx.policy,
    oncall: ctx.oncallPort,
    service: ctx.service,
    store: ctx.store,
    directory: ctx.directoryPort,
    notifier: { ...ctx.notifierPort },
    audit: ctx.audit,
    redis: ctx.redis,
    keys: ctx.keys,
    logger: ctx.logger,
  });
  ctx.keyService.onRegistered((userId) => {
    incidents.onKeyRegistered(userId).catch((err: unknown) => ctx.logger.error({ err, userId }, 'incident grants after a key registration failed'));
  });
  const refusals = new RateLimitedAudit(ctx.audit);
  return {
    client,
    oncall,
    incidents,
    mount: (http) => {
      http.mount(
        PAGERDUTY_WEBHOOK_PATH,
        pagerDutyWebhookRouter({
          secret: settings.webhookSecret,
          redis: ctx.redis,
          keys: ctx.keys,
          audit: ctx.audit,
          refusals,
          logger: ctx.logger.child({ component: 'pagerduty-webhook' }),
          handle: (event) => incidents.onEvent(event),
        }),
      );
    },
    check: () => checkPagerDuty(client, ctx.policy, settings.fromEmail, ctx.logger),
    startSweeper(intervalMs = INCIDENT_SWEEP_MS) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        incidents
          .sweep()
          .catch((err: unknown) => ctx.logger.error({ err }, 'incident sweep failed'))
          .finally(() => {
            running = false;
          });
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
