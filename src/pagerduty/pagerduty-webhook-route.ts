import type express from 'express';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { signedWebhookRouter, type WebhookRouteOptions, type WebhookSender } from '../http/signed-webhook-route';
import { reasonOf } from './pagerduty-client';
import { WebhookBodySchema, type WebhookEvent } from './webhook-event';
import { checkPagerDutySignature } from './webhook-signature';

export const PAGERDUTY_WEBHOOK_PATH = '/webhooks/pagerduty';

/** `handle` gets the event; it re-reads the incident from the API. */
export type PagerDutyWebhookOptions = WebhookRouteOptions<WebhookEvent>;

const PAGERDUTY: WebhookSender<WebhookEvent> = {
  source: 'pagerduty',
  signatureHeader: 'X-PagerDuty-Signature',
  checkSignature: checkPagerDutySignature,
  bodyLimit: '256kb',
  parse: (raw) => {
    const parsed = WebhookBodySchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success) return undefined;
    const e = parsed.data.event;
    const event: WebhookEvent = { id: e.id, type: e.event_type, resourceType: e.resource_type, resourceId: e.data.id, ...(e.occurred_at ? { occurredAt: e.occurred_at } : {}) };
    return {
      id: event.id,
      event,
      received: { event: event.id, eventType: event.type, resourceType: event.resourceType, resource: event.resourceId },
      failed: { what: `webhook event ${event.type} for ${event.resourceId}`, event: event.id },
    };
  },
  receivedType: A.pagerdutyWebhook,
  notAnEvent: { reason: 'not a PagerDuty v3 webhook event', message: 'Not a PagerDuty v3 webhook event.' },
  reasonOf,
};

/** `POST /webhooks/pagerduty`: Webhooks v3 deliveries, deduped on the event id across replicas. */
export function pagerDutyWebhookRouter(options: PagerDutyWebhookOptions): express.Router {
  return signedWebhookRouter(PAGERDUTY, options);
}
