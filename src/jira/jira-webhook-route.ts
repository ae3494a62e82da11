import express, { type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { RateLimitedAudit } from '../audit/rate-limited-audit';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { captureRawBody, rawBodyOf } from '../http/http-server';
import type { Logger } from '../log/logger';
import type { AuditAppender } from '../requests/ports';
import type { RedisKeys } from '../store/redis-keys';
import { WebhookBodySchema } from './jira-schemas';
import { checkJiraSignature } from './webhook-signature';

export const JIRA_WEBHOOK_PATH = '/webhooks/jira';

/** How long a delivery id is remembered: Jira retries a failed delivery for hours, never for days. */
const SEEN_TTL_MS = 7 * 86_400_000;

export interface JiraWebhookOptions {
  secret: string;
  redis: Redis;
  keys: RedisKeys;
  audit: AuditAppender;
  /** For refusals outsiders can cause at will (bad signatures, junk bodies): bounded. */
  refusals: RateLimitedAudit;
  logger: Logger;
  /** Runs after the answer was sent, with the issue id the body names; it re-reads the issue from the API. */
  handle: (issueId: string) => Promise<unknown>;
  clock?: () => number;
}

/**
 * `POST /webhooks/jira`: admin webhooks (`jira:issue_updated`) signed with a secret. The signature
 * is checked over the raw bytes first (401, audited at a bounded rate, otherwise); a delivery is
 * accepted once across replicas by `X-Atlassian-Webhook-Identifier` (SET NX in Redis; a redelivery
 * answers 200 and does nothing), answered at once (202), then handled: the handler reads the issue
 * and its changelog from the API, so nothing in the body is believed beyond which issue to look at.
 */
export function jiraWebhookRouter(options: JiraWebhookOptions): express.Router {
  const { logger } = options;
  const clock = options.clock ?? Date.now;
  const router = express.Router();
  router.post('/', ...captureRawBody({ limit: '1mb' }), async (req: Request, res: Response) => {
    const raw = rawBodyOf(req);
    const remoteAddress = req.socket.remoteAddress;
    const signature = checkJiraSignature(req.headers['x-hub-signature'], raw, options.secret);
    if (!signature.ok) {
      await refuse(options, 'signature', { reason: signature.reason, remoteAddress }, A.signatureRefused);
      res.status(401).json({ error: 'UNAUTHORIZED', message: 'The X-Hub-Signature does not match.' });
      return;
    }
    const identifier = req.headers['x-atlassian-webhook-identifier'];
    const deliveryId = typeof identifier === 'string' && /^[A-Za-z0-9._:-]{1,200}$/.test(identifier) ? identifier : undefined;
    let issueId: string;
    let eventType: string | undefined;
    try {
      const parsed = WebhookBodySchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success || !deliveryId) throw new Error('not a Jira issue webhook');
      issueId = parsed.data.issue.id;
      eventType = parsed.data.webhookEvent;
    } catch {
      await refuse(options, 'body', { reason: 'not a Jira issue webhook with an X-Atlassian-Webhook-Identifier', remoteAddress }, A.jiraWebhook);
      res.status(400).json({ error: 'BAD_REQUEST', message: 'Not a Jira issue webhook (an issue id and X-Atlassian-Webhook-Identifier are needed).' });
      return;
    }

    let first: boolean;
    try {
      first = (await options.redis.set(options.keys.delivery('jira', deliveryId), String(clock()), 'PX', SEEN_TTL_MS, 'NX')) === 'OK';
    } catch (err) {
      // Without the ledger a redelivery could act twice: refuse, and Jira retries later.
      logger.error({ err, delivery: deliveryId }, 'Jira webhook: Redis unavailable for the delivery ledger');
      res.status(503).json({ error: 'UNAVAILABLE', message: 'Try again later.' });
      return;
    }
    if (!first) {
      logger.info({ delivery: deliveryId, issue: issueId }, 'Jira webhook redelivered; already handled');
      res.status(200).json({ status: 'duplicate' });
      return;
    }
    res.status(202).json({ status: 'accepted' });

    try {
      await options.audit.append(
        [{ type: A.jiraWebhook, actor: { id: 'jira', via: 'jira' }, data: { delivery: deliveryId, eventType, issue: issueId } }],
        clock(),
      );
      await options.handle(issueId);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      logger.error({ err, delivery: deliveryId, issue: issueId }, 'Jira webhook could not be handled; the next poll looks again');
      await options.audit
        .append(
          [
            {
              type: A.externalCallFailed,
              actor: { id: 'system', via: 'jira' },
              data: { service: 'jira', what: `webhook for issue ${issueId}`, delivery: deliveryId, error: reason.slice(0, 300) },
            },
          ],
          clock(),
        )
        .catch((auditErr: unknown) => logger.error({ err: auditErr }, 'could not audit a failed Jira webhook'));
    }
  });
  return router;
}

async function refuse(options: JiraWebhookOptions, what: string, data: Record<string, unknown>, type: string): Promise<void> {
  try {
    await options.refusals.append({ type, actor: { id: 'unknown', via: 'jira' }, data: { source: 'jira', refused: what, ...data } });
  } catch (err) {
    options.logger.error({ err }, 'could not audit a refused Jira webhook');
  }
}
