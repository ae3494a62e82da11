import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, describeState, isAdmin, refuse, type Rules } from '../decision-kit';
import { isNamedApprover } from '../people';
import type { AccessRequest, Channel, Decision, DecisionContext, Effect, RefusalCode } from '../types';

export function cancel(request: AccessRequest, via: Channel, comment: string | undefined, ctx: DecisionContext): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.cancelRefused, ctx, via, request.id, { state: request.state });
  if (ctx.actor.id !== request.requester.id && !isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only the requester or an admin can cancel a request.');
  if (request.state !== 'pending')
    return refused(
      'NOT_PENDING',
      request.state === 'approved' || request.state === 'issued'
        ? 'This request is already approved; revoke it instead.'
        : `This request is already ${describeState(request.state)}.`,
    );
  return {
    kind: 'transition',
    request: {
      ...request,
      state: 'cancelled',
      approvers: [],
      closedAt: ctx.now,
      closedBy: ctx.actor.id,
      ...(comment ? { closeReason: comment.slice(0, 1000) } : {}),
      updatedAt: ctx.now,
    },
    effects: [
      audit(A.requestCancelled, ctx.actor, via, request.id, { comment }),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'cancelled' },
    ],
  };
}

/** Ends a grant early. Its extensions go with it (the `close_extensions` effect). */
export function revoke(request: AccessRequest, via: Channel, comment: string | undefined, ctx: DecisionContext): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.revokeRefused, ctx, via, request.id, { state: request.state });
  if (ctx.actor.id !== request.requester.id && !isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only the requester or an admin can revoke access.');
  if (request.state !== 'approved' && request.state !== 'issued')
    return refused('NOT_ACTIVE', `This request is ${describeState(request.state)}; there is no active access to revoke.`);
  return revoked(request, ctx, via, comment, { comment });
}

/** The revoked grant and what follows from it, shared by an explicit revoke and a closed parent. */
export function revoked(
  request: AccessRequest,
  ctx: DecisionContext,
  via: Channel,
  closeReason: string | undefined,
  data: Record<string, unknown>,
): Decision {
  const effects: Effect[] = [
    audit(A.requestRevoked, ctx.actor, via, request.id, {
      ...data,
      serial: request.certificate?.serial,
      kind: request.certificate?.kind,
      expiresAt: request.expiresAt,
    }),
  ];
  if (request.certificate) effects.push({ type: 'revoke_certificate' });
  effects.push({ type: 'close_extensions' }, { type: 'update_approval_messages' }, { type: 'notify_requester', notice: 'revoked' });
  return {
    kind: 'transition',
    request: {
      ...request,
      state: 'revoked',
      closedAt: ctx.now,
      closedBy: ctx.actor.id,
      ...(closeReason ? { closeReason: closeReason.slice(0, 1000) } : {}),
      updatedAt: ctx.now,
    },
    effects,
  };
}

export function breakGlassReview(request: AccessRequest, via: Channel, notes: string, ctx: DecisionContext, { workflow }: Rules): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.breakGlassReviewRefused, ctx, via, request.id);
  const bg = request.breakGlass;
  if (!bg || !bg.reviewRequired || bg.review) return refused('NO_REVIEW_DUE', 'This request has no open post-incident review.');
  if (ctx.actor.id === request.requester.id) return refused('SELF_APPROVAL', 'You cannot review your own break-glass access.');
  const reviewers = workflow?.break_glass?.reviewers;
  if (!isAdmin(ctx) && !(reviewers && isNamedApprover(ctx.actor, reviewers)))
    return refused('NOT_ALLOWED', 'Only break-glass reviewers or admins can close a post-incident review.');
  const text = notes.trim();
  if (!text) return refused('COMMENT_REQUIRED', 'Write what was done with the access and why it was needed.');
  if (text.length > 4000) return refused('FIELD_TOO_LONG', 'Review notes are longer than 4000 characters.');
  return {
    kind: 'transition',
    request: { ...request, breakGlass: { ...bg, review: { by: ctx.actor.id, at: ctx.now, notes: text } }, updatedAt: ctx.now },
    effects: [
      audit(A.breakGlassReviewed, ctx.actor, via, request.id, { notes: text, incident: bg.incidentId, onIncident: bg.onIncident !== undefined }),
      { type: 'notify_break_glass_review', phase: 'closed' },
    ],
  };
}
