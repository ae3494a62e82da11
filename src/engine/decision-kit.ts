import type { Resource, Workflow } from '../config/policy';
import { isInPeople } from './people';
import type { AccessRequest, Actor, AuditInput, Channel, Decision, DecisionContext, Effect, RefusalCode } from './types';

/** A timer that fires this early is treated as stale (clocks of replicas differ slightly). */
export const TIMER_TOLERANCE_MS = 2_000;

/** The resource and workflow a request names, from the policy in force (absent when removed since). */
export interface Rules {
  resource?: Resource;
  workflow?: Workflow;
}

export function lookup(request: AccessRequest, ctx: DecisionContext): Rules {
  const resource = ctx.policy.resources.get(request.resource);
  const workflow = ctx.policy.workflows.get(request.workflow);
  return { ...(resource ? { resource } : {}), ...(workflow ? { workflow } : {}) };
}

export function audit(type: string, actor: Actor, via: Channel, requestId: string | undefined, data: Record<string, unknown>): Effect {
  const event: AuditInput = { type, actor: { id: actor.id, via }, data };
  if (requestId !== undefined) event.requestId = requestId;
  return { type: 'audit', event };
}

export function refuse(
  code: RefusalCode,
  message: string,
  auditType: string,
  ctx: DecisionContext,
  via: Channel,
  requestId: string | undefined,
  data: Record<string, unknown> = {},
): Decision {
  return {
    kind: 'refused',
    code,
    message,
    effects: [audit(auditType, ctx.actor, via, requestId, { code, message, ...data })],
  };
}

export function isAdmin(ctx: DecisionContext): boolean {
  return ctx.actorIsAdmin === true || isInPeople(ctx.actor, ctx.policy.admins);
}

export function pastTense(decision: 'approve' | 'deny'): string {
  return decision === 'approve' ? 'approved' : 'denied';
}

export function describeState(state: AccessRequest['state']): string {
  return state === 'timed_out' ? 'timed out' : state;
}
