import { formatDuration } from '../config/duration';
import type { Resource, Workflow } from '../config/policy';
import { isInPeople } from './people';
import type { AccessRequest, Actor, DecisionContext, IncidentFact, OnCallFact, RefusalCode } from './types';

export const MAX_REASON_LENGTH = 1000;
export const MAX_TICKET_LENGTH = 100;
export const MIN_DURATION_MS = 60_000;

type Check<T> = ({ ok: true } & T) | { ok: false; code: RefusalCode; message: string };

export function checkReason(raw: string, workflow: Workflow): Check<{ value: string }> {
  const value = raw.trim();
  const hint = workflow.reason.hint ? ` ${workflow.reason.hint}` : '';
  if (value.length > MAX_REASON_LENGTH)
    return { ok: false, code: 'FIELD_TOO_LONG', message: `The reason is longer than ${MAX_REASON_LENGTH} characters.` };
  if (workflow.reason.required && value === '')
    return { ok: false, code: 'REASON_REQUIRED', message: `A reason is required.${hint}` };
  if (workflow.reason.pattern !== undefined && !new RegExp(workflow.reason.pattern).test(value))
    return { ok: false, code: 'REASON_INVALID', message: `The reason does not match what this workflow needs.${hint}` };
  return { ok: true, value };
}

export function checkTicket(raw: string | undefined, workflow: Workflow): Check<{ value?: string }> {
  const value = raw?.trim() || undefined;
  const spec = workflow.ticket;
  if (value !== undefined && value.length > MAX_TICKET_LENGTH)
    return { ok: false, code: 'FIELD_TOO_LONG', message: `The ticket reference is longer than ${MAX_TICKET_LENGTH} characters.` };
  if (!spec) return value === undefined ? { ok: true } : { ok: true, value };
  const hint = spec.hint ? ` ${spec.hint}` : '';
  if (value === undefined) return spec.required ? { ok: false, code: 'TICKET_REQUIRED', message: `A ticket reference is required.${hint}` } : { ok: true };
  if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value))
    return { ok: false, code: 'TICKET_INVALID', message: `"${value}" is not a valid ticket reference.${hint}` };
  return { ok: true, value };
}

/** The requested duration (or the default), refused when over the maximum rather than silently cut. */
export function resolveDuration(
  requested: number | undefined,
  defaultMs: number,
  maxMs: number,
): Check<{ requestedMs: number; grantedMs: number }> {
  const ms = requested ?? Math.min(defaultMs, maxMs);
  if (!Number.isSafeInteger(ms) || ms < MIN_DURATION_MS)
    return { ok: false, code: 'DURATION_INVALID', message: `The duration must be at least ${formatDuration(MIN_DURATION_MS)}.` };
  if (ms > maxMs)
    return {
      ok: false,
      code: 'DURATION_TOO_LONG',
      message: `${formatDuration(ms)} is longer than the maximum of ${formatDuration(maxMs)} for this resource.`,
    };
  return { ok: true, requestedMs: ms, grantedMs: ms };
}

/** Index of the first auto-approve rule that covers this requester and duration. */
export function matchAutoApproveRule(workflow: Workflow, actor: Actor, requestedMs: number): number | undefined {
  const i = workflow.auto_approve.findIndex((rule) => requestedMs <= rule.max_duration && isInPeople(actor, rule.requesters));
  return i === -1 ? undefined : i;
}

/** The normal way to ask for a resource, offered whenever break-glass is refused (worded as submit's other break-glass refusals). */
export function normalPathHint(resource: string | undefined, workflow?: Workflow): string {
  return resource ? ` Request it normally with \`/access ${resource} <duration>${workflow?.ticket?.required ? ' <ticket>' : ''} <reason>\`.` : '';
}

export interface BreakGlassBasis {
  /** The incident it rests on (triggered or acknowledged), when there is one on a service the actor is on call for. */
  incident?: { id?: string; service?: string; status?: IncidentFact['status']; number?: number };
  /** The on-call entry it rests on, when PagerDuty gave one. */
  oncall?: OnCallFact;
}

/**
 * Whether the actor may break glass now: on call at a qualifying level (`oncall_levels`) for one of
 * the workflow's services, with a triggered or acknowledged incident on it when the workflow
 * requires one. PagerDuty not answering is a refusal with its reason, never a grant.
 */
export function checkBreakGlass(
  workflow: Workflow,
  ctx: Pick<DecisionContext, 'oncallServices' | 'oncallEntries' | 'activeIncidents' | 'oncallUnavailable'> & { actor?: Actor },
  resource?: string,
): Check<BreakGlassBasis> {
  const hint = normalPathHint(resource, workflow);
  const bg = workflow.break_glass;
  if (!bg) return { ok: false, code: 'BREAK_GLASS_NOT_ALLOWED', message: `Workflow ${workflow.name} does not allow break-glass access.${hint}` };
  if (ctx.oncallUnavailable !== undefined)
    return {
      ok: false,
      code: 'BREAK_GLASS_NOT_ALLOWED',
      message: `PagerDuty could not confirm that you are on call (${ctx.oncallUnavailable}), so no break-glass was granted.${hint}`,
    };
  const services = bg.pagerduty_services;
  const levels = bg.oncall_levels;
  // Entries (with levels) when the caller read them; a bare list of services otherwise.
  const entries = ctx.oncallEntries?.filter((e) => services.includes(e.service) && levels.includes(e.level));
  const oncall = entries ? [...new Set(entries.map((e) => e.service))] : (ctx.oncallServices ?? []).filter((s) => services.includes(s));
  if (oncall.length === 0 && ctx.oncallEntries && ctx.actor && ctx.actor.emailVerified !== true)
    return {
      ok: false,
      code: 'BREAK_GLASS_NOT_ALLOWED',
      message: `PagerDuty users are matched by Slack email, and yours is ${ctx.actor.email ? 'not confirmed in Slack' : 'not known'}, so access-bot cannot tell that you are on call.${hint}`,
    };
  if (oncall.length === 0) {
    const other = ctx.oncallEntries?.filter((e) => services.includes(e.service)) ?? [];
    const levelText = ` at level ${levels.join(' or ')}`;
    return {
      ok: false,
      code: 'BREAK_GLASS_NOT_ALLOWED',
      message:
        other.length > 0
          ? `Break-glass needs you to be on call in PagerDuty for ${services.join(', ')}${levelText}; you are on call at level ${[...new Set(other.map((e) => e.level))].join(', ')}.${hint}`
          : `Break-glass needs you to be on call in PagerDuty for ${services.join(', ')}${ctx.oncallEntries ? levelText : ''}, and you are not.${hint}`,
    };
  }
  const incident = (ctx.activeIncidents ?? []).find((i) => oncall.includes(i.service) && (i.status === undefined || i.status !== 'resolved'));
  if (bg.require_active_incident && !incident)
    return {
      ok: false,
      code: 'BREAK_GLASS_NOT_ALLOWED',
      message: `Break-glass needs an active PagerDuty incident (triggered or acknowledged) on ${oncall.join(', ')}, and there is none.${hint}`,
    };
  const service = incident?.service ?? oncall[0]!;
  const entry = entries?.find((e) => e.service === service);
  return {
    ok: true,
    incident: incident
      ? { id: incident.id, service: incident.service, ...(incident.status ? { status: incident.status } : {}), ...(incident.number !== undefined ? { number: incident.number } : {}) }
      : { service },
    ...(entry ? { oncall: entry } : {}),
  };
}

/**
 * The access window, fixed at approval: it starts now (or, for an extension, where the extended
 * grant ends) and never runs past `now + maximum` of the policy in force at approval. The worker
 * signs exactly this window, so an extension's certificate is not valid while its grant's still is.
 */
export function grantWindow(
  request: AccessRequest,
  resource: Resource | undefined,
  workflow: Workflow | undefined,
  now: number,
): { grantedMs: number; startsAt: number; expiresAt: number } {
  let maxMs = resource?.duration.max ?? request.grantedMs;
  if (request.breakGlass && workflow?.break_glass) maxMs = Math.min(maxMs, workflow.break_glass.max_duration);
  const grantedMs = Math.min(request.grantedMs, maxMs);
  const startsAt = request.extension ? Math.max(now, request.extension.previousExpiresAt) : now;
  const expiresAt = Math.min(startsAt + grantedMs, now + maxMs);
  return { grantedMs: expiresAt - startsAt, startsAt, expiresAt };
}
