import { z } from 'zod';

/**
 * The parts of PagerDuty REST v2 bodies access-bot reads, parsed before use. Objects are not
 * strict: PagerDuty adds fields over time, and an unknown field must not break a lookup.
 */

const Reference = z.object({ id: z.string().min(1), type: z.string().optional(), summary: z.string().nullish() });

export const UserSchema = z.object({
  id: z.string().min(1),
  email: z.string().min(3),
  name: z.string().nullish(),
  summary: z.string().nullish(),
});
export type PdUser = z.output<typeof UserSchema>;

export const OnCallSchema = z.object({
  escalation_policy: Reference,
  escalation_level: z.number().int().min(1),
  /** With `include[]=users` the full user (with email); otherwise a reference. */
  user: z.object({ id: z.string().min(1), email: z.string().optional(), summary: z.string().nullish(), name: z.string().nullish() }),
  schedule: Reference.nullish(),
  start: z.string().nullish(),
  end: z.string().nullish(),
});
export type PdOnCall = z.output<typeof OnCallSchema>;

export const IncidentStatus = z.enum(['triggered', 'acknowledged', 'resolved']);

export const IncidentSchema = z.object({
  id: z.string().min(1),
  incident_number: z.number().int(),
  title: z.string(),
  status: IncidentStatus,
  urgency: z.string().nullish(),
  created_at: z.string(),
  html_url: z.string().nullish(),
  service: Reference,
  escalation_policy: Reference.nullish(),
  assignments: z.array(z.object({ assignee: Reference })).default([]),
});
export type PdIncident = z.output<typeof IncidentSchema>;

export const ServiceSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  status: z.string().nullish(),
  escalation_policy: Reference,
});

export const EscalationPolicySchema = z.object({ id: z.string().min(1), name: z.string().nullish() });

export const NoteSchema = z.object({ id: z.string().min(1), content: z.string() });

/** Classic (offset) pagination, as every list endpoint used here answers. */
export const PageSchema = z.object({
  limit: z.number().int().nullish(),
  offset: z.number().int().nullish(),
  more: z.boolean().nullish(),
});

/** PagerDuty's error body: `{ error: { message, code, errors[] } }`. */
export const ErrorBodySchema = z.object({
  error: z.object({ message: z.string().optional(), code: z.number().optional(), errors: z.array(z.string()).optional() }),
});
