import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit } from '../decision-kit';
import { isActiveGrant } from '../request-states';
import type { AccessRequest, Decision, DecisionContext } from '../types';
import { revoked } from './requester-actions';

/**
 * A person left (their Slack account was deactivated; SOC 2 CC6.2, access removed when no longer
 * required). Their live grants are revoked, their pending requests cancelled, and an approval they
 * gave to a stage still waiting for more is withdrawn: a vote from someone who has left must not
 * count toward a later approval. Votes of stages already passed stay: those decisions were made.
 */
export function offboarded(request: AccessRequest, userId: string, reason: string, source: string, ctx: DecisionContext): Decision {
  const data = { cause: 'offboarded', user: userId, reason, source };
  if (request.requester.id === userId) {
    if (isActiveGrant(request.state)) return revoked(request, ctx, 'system', `Revoked: ${reason}.`, data);
    if (request.state !== 'pending') return { kind: 'noop', reason: `request is ${request.state}` };
    return {
      kind: 'transition',
      request: { ...request, state: 'cancelled', approvers: [], closedAt: ctx.now, closedBy: 'system', closeReason: `Cancelled: ${reason}.`, updatedAt: ctx.now },
      effects: [audit(A.requestCancelled, ctx.actor, 'system', request.id, data), { type: 'update_approval_messages' }, { type: 'notify_requester', notice: 'cancelled' }],
    };
  }
  if (request.state !== 'pending') return { kind: 'noop', reason: `request is ${request.state}` };
  const withdrawn = request.reviews.filter((r) => r.by === userId && r.stage === request.stage && r.decision === 'approve');
  if (withdrawn.length === 0) return { kind: 'noop', reason: 'no vote of theirs on the stage waiting' };
  return {
    kind: 'transition',
    request: {
      ...request,
      reviews: request.reviews.filter((r) => !withdrawn.includes(r)),
      approvers: request.approvers.filter((id) => id !== userId),
      updatedAt: ctx.now,
    },
    effects: [audit(A.reviewWithdrawn, ctx.actor, 'system', request.id, { ...data, stage: request.stage, votedAt: withdrawn[0]!.at }), { type: 'update_approval_messages' }],
  };
}
