import { approve, approverPool, stageTimers } from '../approval';
import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, describeState, pastTense, refuse, type Rules } from '../decision-kit';
import { describeApprovers, isNamedApprover } from '../people';
import { isActiveGrant } from '../request-states';
import type { AccessRequest, Decision, DecisionContext, RefusalCode, RequestEvent } from '../types';

/** An approver's decision, from any channel: it counts toward the stage's threshold the same way. */
export function review(
  request: AccessRequest,
  ev: Extract<RequestEvent, { type: 'review' }>,
  ctx: DecisionContext,
  { workflow }: Rules,
): Decision {
  const actor = ctx.actor;
  const refused = (code: RefusalCode, message: string) =>
    refuse(code, message, A.reviewRefused, ctx, ev.via, request.id, { decision: ev.decision, stage: request.stage, state: request.state });

  const mine = request.reviews.filter((r) => r.by === actor.id);
  if (request.state !== 'pending') {
    if (mine.some((r) => r.decision === ev.decision)) return { kind: 'noop', reason: `You already ${pastTense(ev.decision)} this request.` };
    return refused('NOT_PENDING', `This request is already ${describeState(request.state)}.`);
  }
  if (!workflow) return refused('NOT_ALLOWED', `Workflow ${request.workflow} no longer exists; the request cannot be decided.`);
  const stage = workflow.stages[request.stage];
  if (!stage) return refused('NOT_ALLOWED', `Stage ${request.stage + 1} no longer exists in workflow ${workflow.name}.`);

  if (mine.some((r) => r.stage === request.stage))
    return { kind: 'noop', reason: `You already ${pastTense(mine.find((r) => r.stage === request.stage)!.decision)} this request.` };

  if (actor.id === request.requester.id && !workflow.self_approval) return refused('SELF_APPROVAL', 'You cannot decide your own request.');

  const resolved = ctx.approversByStage?.[request.stage] ?? request.approvers;
  if (!resolved.includes(actor.id) && !isNamedApprover(actor, stage.approvers))
    return refused(
      'NOT_APPROVER',
      `You are not an approver for stage "${stage.name}" of this request. Approvers: ${describeApprovers(stage.approvers)}.`,
    );

  if (ev.decision === 'approve' && workflow.distinct_approvers && mine.some((r) => r.decision === 'approve'))
    return refused('ALREADY_REVIEWED', 'You approved an earlier stage; this workflow needs a different person for each stage.');

  if (ev.decision === 'approve' && request.extension) {
    // The grant may have been revoked since the extension was asked for; the cascade that cancels
    // the extension may not have run yet. Never approve on top of a grant that is gone.
    const parent = ctx.extensionParent;
    if (!parent || parent.id !== request.extension.of || !isActiveGrant(parent.state) || (parent.expiresAt ?? 0) <= ctx.now)
      return refused(
        'EXTENSION_INVALID',
        `This extends ${request.extension.of}, which is ${parent ? describeState(parent.state) : 'gone'}: there is no access left to extend.`,
      );
  }

  const comment = ev.comment?.trim();
  if (comment !== undefined && comment.length > 1000) return refused('FIELD_TOO_LONG', 'The comment is longer than 1000 characters.');

  const entry = {
    stage: request.stage,
    by: actor.id,
    decision: ev.decision,
    via: ev.via,
    at: ctx.now,
    ...(comment ? { comment } : {}),
    ...(ev.via === 'jira' && actor.jiraAccountId ? { jiraAccountId: actor.jiraAccountId } : {}),
  };
  const reviewed: AccessRequest = { ...request, reviews: [...request.reviews, entry], updatedAt: ctx.now };

  if (ev.decision === 'deny') {
    const denied: AccessRequest = {
      ...reviewed,
      state: 'denied',
      approvers: [],
      closedAt: ctx.now,
      closedBy: actor.id,
      ...(comment ? { closeReason: comment } : {}),
    };
    return {
      kind: 'transition',
      request: denied,
      effects: [
        audit(A.requestDenied, actor, ev.via, request.id, { stage: request.stage, stageName: stage.name, comment }),
        { type: 'update_approval_messages' },
        { type: 'notify_requester', notice: 'denied' },
      ],
    };
  }

  const approvals = new Set(reviewed.reviews.filter((r) => r.stage === request.stage && r.decision === 'approve').map((r) => r.by)).size;
  const reviewAudit = audit(A.reviewApproved, actor, ev.via, request.id, {
    stage: request.stage,
    stageName: stage.name,
    approvals,
    needed: stage.approvals,
    comment,
  });
  if (approvals < stage.approvals) {
    return { kind: 'transition', request: reviewed, effects: [reviewAudit, { type: 'update_approval_messages' }] };
  }
  if (request.stage === workflow.stages.length - 1) {
    return approve(reviewed, ctx, ev.via, [reviewAudit], { route: 'workflow' });
  }
  const next = request.stage + 1;
  const advanced: AccessRequest = {
    ...reviewed,
    stage: next,
    stageStartedAt: ctx.now,
    approvers: approverPool(reviewed, workflow, ctx.approversByStage?.[next]),
  };
  return {
    kind: 'transition',
    request: advanced,
    effects: [
      reviewAudit,
      audit(A.stageAdvanced, actor, ev.via, request.id, { from: request.stage, to: next, stageName: workflow.stages[next]?.name }),
      { type: 'update_approval_messages' },
      { type: 'notify_approvers', stage: next, reason: 'new' },
      { type: 'notify_requester', notice: 'stage_approved' },
      ...stageTimers(workflow, next, ctx.now),
    ],
  };
}
