import express, { type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { RateLimitedAudit } from '../audit/rate-limited-audit';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { Logger } from '../log/logger';
import type { AuditAppender } from '../requests/ports';
import type { RedisKeys } from '../store/redis-keys';
import { captureRawBody, rawBodyOf } from './http-server';

/** How long a delivery id is remembered: senders retry a failed delivery for hours, never for days. */
const SEEN_TTL_MS = 7 * 86_400_000;

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' };

/** What a sender's body names, once its signature held: never more than what to re-read from the API. */
export interface SignedDelivery<T> {
  /** The sender's delivery (or event) id: the key of the once-only ledger. */
  id: string;
  event: T;
  /** The data of the audit event that records the accepted delivery. */
  received: Record<string, unknown>;
  /** What the audit event says when handling fails (what was being done, and the delivery's id). */
  failed: { what: string } & Record<string, unknown>;
}

/** What the integrations pass: the settings and stores every signed webhook needs. */
export interface WebhookRouteOptions<T> {
  secret: string;
  redis: Redis;
  keys: RedisKeys;
  audit: AuditAppender;
  /** For refusals outsiders can cause at will (bad signatures, junk bodies): bounded. */
  refusals: RateLimitedAudit;
  logger: Logger;
  /** Runs after the answer was sent; a failure is logged and audited, never answered. */
  handle: (event: T) => Promise<unknown>;
  clock?: () => number;
}

/** What differs between senders. */
export interface WebhookSender<T> {
  source: 'jira' | 'pagerduty';
  /** As the sender spells it in its docs; the header is read lowercased. */
  signatureHeader: string;
  checkSignature: (header: string | string[] | undefined, raw: Buffer, secret: string) => SignatureCheck;
  bodyLimit: string;
  /** undefined for a body that is not one of the sender's events. */
  parse: (raw: Buffer, req: Request) => SignedDelivery<T> | undefined;
  /** The audit type of an accepted delivery and of a junk body. */
  receivedType: string;
  notAnEvent: { reason: string; message: string };
  reasonOf?: (err: unknown) => string;
}

/**
 * A signed webhook: the signature is checked over the raw bytes before anything else (401, audited
 * at a bounded rate, otherwise); a valid delivery is accepted once across every replica by its id
 * (SET NX in Redis; a redelivery answers 200 and does nothing, and without Redis the answer is 503
 * so the sender retries), answered at once (202), then handled. The handler re-reads what the body
 * names from the sender's API, so nothing in the body is believed beyond what to look at.
 */
export function signedWebhookRouter<T>(sender: WebhookSender<T>, options: WebhookRouteOptions<T>): express.Router {
  const { logger } = options;
  const { source } = sender;
  const clock = options.clock ?? Date.now;
  const reasonOf = sender.reasonOf ?? ((err: unknown) => (err instanceof Error ? err.message : String(err)));
  const refuse = async (what: string, data: Record<string, unknown>, type: string): Promise<void> => {
    try {
      await options.refusals.append({ type, actor: { id: 'unknown', via: source }, data: { source, refused: what, ...data } });
    } catch (err) {
      logger.error({ err, source }, 'could not audit a refused webhook');
    }
  };
  const router = express.Router();
  router.post('/', ...captureRawBody({ limit: sender.bodyLimit }), async (req: Request, res: Response) => {
    const raw = rawBodyOf(req);
    const remoteAddress = req.socket.remoteAddress;
    const signature = sender.checkSignature(req.headers[sender.signatureHeader.toLowerCase()], raw, options.secret);
    if (!signature.ok) {
      await refuse('signature', { reason: signature.reason, remoteAddress }, A.signatureRefused);
      res.status(401).json({ error: 'UNAUTHORIZED', message: `The ${sender.signatureHeader} does not match.` });
      return;
    }
    let delivery: SignedDelivery<T> | undefined;
    try {
      delivery = sender.parse(raw, req);
    } catch {
      delivery = undefined;
    }
    if (!delivery) {
      await refuse('body', { reason: sender.notAnEvent.reason, remoteAddress }, sender.receivedType);
      res.status(400).json({ error: 'BAD_REQUEST', message: sender.notAnEvent.message });
      return;
    }

    let first: boolean;
    try {
      first = (await options.redis.set(options.keys.delivery(source, delivery.id), String(clock()), 'PX', SEEN_TTL_MS, 'NX')) === 'OK';
    } catch (err) {
      // Without the ledger a redelivery could act twice: refuse, and the sender retries later.
      logger.error({ err, source, delivery: delivery.id }, 'webhook: Redis unavailable for the delivery ledger');
      res.status(503).json({ error: 'UNAVAILABLE', message: 'Try again later.' });
      return;
    }
    if (!first) {
      logger.info({ source, delivery: delivery.id }, 'webhook redelivered; already handled');
      res.status(200).json({ status: 'duplicate' });
      return;
    }
    res.status(202).json({ status: 'accepted' });

    try {
      await options.audit.append([{ type: sender.receivedType, actor: { id: source, via: source }, data: delivery.received }], clock());
      await options.handle(delivery.event);
    } catch (err) {
      const reason = reasonOf(err);
      logger.error({ err, source, delivery: delivery.id, reason }, 'webhook could not be handled');
      await options.audit
        .append(
          [
            {
              type: A.externalCallFailed,
              actor: { id: 'system', via: source },
              data: { service: source, ...delivery.failed, error: reason.slice(0, 300) },
            },
          ],
          clock(),
        )
        .catch((auditErr: unknown) => logger.error({ err: auditErr, source }, 'could not audit a failed webhook'));
    }
  });
  return router;
}
