import express, { type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { RateLimitedAudit } from '../audit/rate-limited-audit';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { captureRawBody, rawBodyOf } from '../http/http-server';
import type { Logger } from '../log/logger';
import type { AuditAppender } from '../requests/ports';
import type { RedisKeys } from '../store/redis-keys';
import { reasonOf } from './pagerduty-client';
import { WebhookBodySchema, type WebhookEvent } from './webhook-event';
import { checkPagerDutySignature } from './webhook-signature';

export const PAGERDUTY_WEBHOOK_PATH = '/webhooks/pagerduty';

/** How long an event id is remembered: PagerDuty retries a failed delivery for a while, never for days. */
const SEEN_TTL_MS = 7 * 86_400_000;

export interface PagerDutyWebhookOptions {
  secret: string;
  redis: Redis;
  keys: RedisKeys;
  audit: AuditAppender;
  /** For refusals outsiders can cause at will (bad signatures, junk bodies): bounded. */
  refusals: RateLimitedAudit;
  logger: Logger;
  /** Runs after the answer was sent; a failure is logged and audited, never answered. */
  handle: (event: WebhookEvent) => Promise<void>;
  clock?: () => number;
}

/**
 * `POST /webhooks/pagerduty`: Webhooks v3 deliveries. The signature is checked over the raw bytes
 * before anything else (401, audited at a bounded rate, otherwise); a valid delivery is accepted
 * once across every replica by its event id (SET NX in Redis; a redelivery answers 200 and does
 * nothing), answered at once (202), and then handled: the handler re-reads the incident from the
 * API, so nothing in the body is trusted beyond which incident to look at.
 */
export function pagerDutyWebhookRouter(options: PagerDutyWebhookOptions): express.Router {
  const { logger } = options;
  const clock = options.clock ?? Date.now;
  const router = express.Router();
  router.post('/', ...captureRawBody({ limit: '256kb' }), async (req: Request, res: Response) => {
    const raw = rawBodyOf(req);
    const remoteAddress = req.socket.remoteAddress;
    const signature = checkPagerDutySignature(req.headers['x-pagerduty-signature'], raw, options.secret);
    if (!signature.ok) {
      await refuse(options, 'signature', { reason: signature.reason, remoteAddress }, A.signatureRefused);
      res.status(401).json({ error: 'UNAUTHORIZED', message: 'The X-PagerDuty-Signature does not match.' });
      return;
    }
    let event: WebhookEvent;
    try {
      const parsed = WebhookBodySchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success) throw new Error('not a v3 event');
      const e = parsed.data.event;
      event = { id: e.id, type: e.event_type, resourceType: e.resource_type, resourceId: e.data.id, ...(e.occurred_at ? { occurredAt: e.occurred_at } : {}) };
    } catch {
      await refuse(options, 'body', { reason: 'not a PagerDuty v3 webhook event', remoteAddress }, A.pagerdutyWebhook);
      res.status(400).json({ error: 'BAD_REQUEST', message: 'Not a PagerDuty v3 webhook event.' });
      return;
    }

    let first: boolean;
    try {
      first = (await options.redis.set(options.keys.delivery('pagerduty', event.id), String(clock()), 'PX', SEEN_TTL_MS, 'NX')) === 'OK';
    } catch (err) {
      // Without the ledger a redelivery could act twice: refuse, and PagerDuty retries later.
      logger.error({ err, event: event.id }, 'PagerDuty webhook: Redis unavailable for the delivery ledger');
      res.status(503).json({ error: 'UNAVAILABLE', message: 'Try again later.' });
      return;
    }
    if (!first) {
      logger.info({ event: event.id, type: event.type }, 'PagerDuty webhook redelivered; already handled');
      res.status(200).json({ status: 'duplicate' });
      return;
    }
    res.status(202).json({ status: 'accepted' });

    try {
      await options.audit.append(
        [{ type: A.pagerdutyWebhook, actor: { id: 'pagerduty', via: 'pagerduty' }, data: { event: event.id, eventType: event.type, resourceType: event.resourceType, resource: event.resourceId } }],
        clock(),
      );
      await options.handle(event);
    } catch (err) {
      logger.error({ err, event: event.id, type: event.type, reason: reasonOf(err) }, 'PagerDuty webhook event could not be handled');
      await options.audit
        .append(
          [
            {
              type: A.externalCallFailed,
              actor: { id: 'system', via: 'pagerduty' },
              data: { service: 'pagerduty', what: `webhook event ${event.type} for ${event.resourceId}`, event: event.id, error: reasonOf(err).slice(0, 300) },
            },
          ],
          clock(),
        )
        .catch((auditErr: unknown) => logger.error({ err: auditErr }, 'could not audit a failed PagerDuty event'));
    }
  });
  return router;
}

async function refuse(options: PagerDutyWebhookOptions, what: string, data: Record<string, unknown>, type: string): Promise<void> {
  try {
    await options.refusals.append({
      type,
      actor: { id: 'unknown', via: 'pagerduty' },
      data: { source: 'pagerduty', refused: what, ...data },
    });
  } catch (err) {
    options.logger.error({ err }, 'could not audit a refused PagerDuty webhook');
  }
}
