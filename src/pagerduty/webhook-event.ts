import { z } from 'zod';

/** The incident events access-bot acts on; any other event type is accepted and ignored. */
export const INCIDENT_EVENT_TYPES = [
  'incident.triggered',
  'incident.acknowledged',
  'incident.unacknowledged',
  'incident.reassigned',
  'incident.escalated',
  'incident.resolved',
  'incident.reopened',
] as const;

/**
 * A PagerDuty Webhooks v3 body: `{ event: { id, event_type, resource_type, occurred_at, data } }`.
 * Only the event id, its type and the incident id are taken from it: the incident itself is re-read
 * from the API before anything is done, so the body is a hint, never a fact.
 */
export const WebhookBodySchema = z.object({
  event: z.object({
    id: z.string().min(1).max(128),
    event_type: z.string().min(1).max(100),
    resource_type: z.string().min(1).max(100),
    occurred_at: z.string().max(64).optional(),
    data: z.object({ id: z.string().regex(/^[A-Z0-9]{2,64}$/), type: z.string().max(64).optional() }).passthrough(),
  }),
});

export interface WebhookEvent {
  id: string;
  type: string;
  resourceType: string;
  /** The incident id, for incident events. */
  resourceId: string;
  occurredAt?: string;
}
