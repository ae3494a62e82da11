import { formatDuration } from '../../config/duration';
import { approverPool, stageTimers } from '../approval';
import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, TIMER_TOLERANCE_MS, type Rules } from '../decision-kit';
import type { AccessRequest, Decision, DecisionContext, Effect } from '../types';

/** Reminders back off (x2 each time) and stop after this many. */
export const MAX_REMINDERS = 8;

export function stageTimeout(request: AccessRequest, stage: number, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending' || request.stage !== stage) return { kind: 'noop', reason: 'stale stage timer' };
  const spec = workflow?.stages[stage];
  if (!workflow || !spec || spec.timeout === undefined) return { kind: 'noop', reason: 'stage has no timeout' };
  if (ctx.now + TIMER_TOLERANCE_MS < request.stageStartedAt + spec.timeout) return { kind: 'noop', reason: 'stage timer not due' };

  const last = workflow.stages.length - 1;
  const onTimeout = spec.on_timeout ?? (stage < last ? 'escalate' : 'expire');
  if (onTimeout === 'escalate' && stage < last) {
    const next = stage + 1;
    const escalated: AccessRequest = {
      ...request,
      stage: next,
      stageStartedAt: ctx.now,
      escalatedStages: [...request.escalatedStages, stage],
      approvers: approverPool(request, workflow, ctx.approversByStage?.[next]),
      updatedAt: ctx.now,
    };
    return {
      kind: 'transition',
      request: escalated,
      effects: [
        audit(A.stageEscalated, ctx.actor, 'system', request.id, {
          from: stage,
          to: next,
          fromName: spec.name,
          toName: workflow.stages[next]?.name,
          after: formatDuration(spec.timeout),
        }),
        { type: 'update_approval_messages' },
        { type: 'notify_approvers', stage: next, reason: 'escalated' },
        ...stageTimers(workflow, next, ctx.now),
      ],
    };
  }
  return timeOut(request, ctx, { cause: 'stage_timeout', stage, stageName: spec.name, after: formatDuration(spec.timeout) });
}

function timeOut(request: AccessRequest, ctx: DecisionContext, data: Record<string, unknown>): Decision {
  return {
    kind: 'transition',
    request: { ...request, state: 'timed_out', approvers: [], closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      audit(A.requestTimedOut, ctx.actor, 'system', request.id, data),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'timed_out' },
    ],
  };
}

export function reminderDue(request: AccessRequest, stage: number, n: number, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending' || request.stage !== stage) return { kind: 'noop', reason: 'stale reminder' };
  const spec = workflow?.stages[stage];
  if (!workflow || !spec || spec.reminder === undefined) return { kind: 'noop', reason: 'stage has no reminder' };
  const effects: Effect[] = [
    audit(A.reminderSent, ctx.actor, 'system', request.id, { stage, stageName: spec.name, n: n + 1, approvers: request.approvers }),
    { type: 'notify_approvers', stage, reason: 'reminder' },
  ];
  const nextAt = ctx.now + spec.reminder * 2 ** (n + 1);
  const stageEnds = spec.timeout !== undefined ? request.stageStartedAt + spec.timeout : Infinity;
  const requestEnds = request.createdAt + workflow.pending_ttl;
  if (n + 1 < MAX_REMINDERS && nextAt < stageEnds && nextAt < requestEnds)
    effects.push({ type: 'schedule', timer: 'reminder', at: nextAt, stage, n: n + 1 });
  return { kind: 'transition', request: { ...request, updatedAt: ctx.now }, effects };
}

export function pendingTtl(request: AccessRequest, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending') return { kind: 'noop', reason: 'not pending' };
  const ttl = workflow?.pending_ttl;
  if (ttl !== undefined && ctx.now + TIMER_TOLERANCE_MS < request.createdAt + ttl) return { kind: 'noop', reason: 'pending TTL not due' };
  return timeOut(request, ctx, { cause: 'pending_ttl', after: ttl !== undefined ? formatDuration(ttl) : undefined });
}
