import type { Workflow } from '../config/policy';
import { AUDIT_EVENT_TYPES as A } from './audit-event-types';
import { audit } from './decision-kit';
import { grantWindow } from './policy-rules';
import type { AccessRequest, Channel, Decision, DecisionContext, Effect } from './types';

export type ApprovalRoute = 'workflow' | 'auto' | 'break_glass' | 'incident' | 'admin';

/** Timers a stage starts with: its timeout, and its first reminder. */
export function stageTimers(workflow: Workflow, stage: number, startedAt: number): Effect[] {
  const spec = workflow.stages[stage];
  if (!spec) return [];
  const effects: Effect[] = [];
  if (spec.timeout !== undefined) effects.push({ type: 'schedule', timer: 'stage_timeout', at: startedAt + spec.timeout, stage });
  if (spec.reminder !== undefined) effects.push({ type: 'schedule', timer: 'reminder', at: startedAt + spec.reminder, stage, n: 0 });
  return effects;
}

/**
 * Who is asked to decide a stage: its resolved approvers, less the requester (unless the workflow
 * allows self-approval) and, with `distinct_approvers`, less whoever approved an earlier stage.
 * Neither could decide, so they are neither listed nor sent the request.
 */
export function approverPool(request: AccessRequest, workflow: Workflow, resolved: readonly string[] | undefined): string[] {
  const approvedBefore = new Set(workflow.distinct_approvers ? request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by) : []);
  return (resolved ?? []).filter((id) => (workflow.self_approval || id !== request.requester.id) && !approvedBefore.has(id));
}

/** Moves a request to approved: the access window is fixed now (it starts now, or where the extended grant ends). */
export function approve(
  request: AccessRequest,
  ctx: DecisionContext,
  via: Channel,
  leading: Effect[],
  how: { route: ApprovalRoute; rule?: number },
): Decision {
  const resource = ctx.policy.resources.get(request.resource);
  const workflow = ctx.policy.workflows.get(request.workflow);
  const window = grantWindow(request, resource, workflow, ctx.now);
  const approved: AccessRequest = {
    ...request,
    state: 'approved',
    grantedMs: window.grantedMs,
    approvedAt: ctx.now,
    startsAt: window.startsAt,
    expiresAt: window.expiresAt,
    approvers: [],
    updatedAt: ctx.now,
  };
  return {
    kind: 'transition',
    request: approved,
    effects: [
      ...leading,
      audit(A.requestApproved, ctx.actor, via, request.id, {
        route: how.route,
        ...(how.rule !== undefined ? { autoApproveRule: how.rule } : {}),
        approvedAt: ctx.now,
        startsAt: window.startsAt,
        expiresAt: window.expiresAt,
        grantedMs: window.grantedMs,
        approvers: [...new Set(request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by))],
        subject: request.subject,
        ...(request.extension ? { extensionOf: request.extension.of } : {}),
        policy: ctx.policy.hash,
      }),
      { type: 'enqueue_issuance' },
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'approved' },
    ],
  };
}
