import { AUDIT_EVENT_TYPES as A } from './audit-event-types';
import { lookup, refuse } from './decision-kit';
import { expire, issued, issueFailed } from './events/certificate-lifecycle';
import { offboarded } from './events/offboarded';
import { parentClosed } from './events/parent-closed';
import { reviewReminderDue } from './events/break-glass-review';
import { incidentGrant, incidentResolved } from './events/incident-grant';
import { breakGlassReview, cancel, revoke } from './events/requester-actions';
import { review } from './events/review';
import { submit } from './events/submit';
import { pendingTtl, reminderDue, stageTimeout } from './events/timers';
import type { AccessRequest, Decision, DecisionContext, RequestEvent } from './types';

export { MAX_REMINDERS } from './events/timers';
export { describeState } from './decision-kit';

/** Audit type of a refusal, per human action. */
const REFUSED_AS: Partial<Record<RequestEvent['type'], string>> = {
  submit: A.requestRefused,
  review: A.reviewRefused,
  cancel: A.cancelRefused,
  revoke: A.revokeRefused,
  break_glass_review: A.breakGlassReviewRefused,
};

/**
 * The request state machine. Pure: everything it needs is in `request`, `event` and `ctx`, and
 * everything it wants done comes back as effects. The caller commits the returned request and the
 * audit effects in one compare-and-set, then carries out the other effects. One file per event kind
 * under `events/`.
 */
export function decide(request: AccessRequest | undefined, event: RequestEvent, ctx: DecisionContext): Decision {
  const refusedAs = REFUSED_AS[event.type];
  if (ctx.actor.inactive && refusedAs && 'via' in event) {
    const message =
      ctx.actor.inactive === 'bot' ? 'Bots cannot request or decide access.' : 'This account is deactivated and cannot request or decide access.';
    return refuse('NOT_ALLOWED', message, refusedAs, ctx, event.via, request?.id, { inactive: ctx.actor.inactive });
  }
  if (event.type === 'submit') return submit(event, ctx);
  if (event.type === 'incident_grant') return incidentGrant(event, ctx);
  if (!request) throw new Error(`event ${event.type} needs a request`);
  const rules = lookup(request, ctx);
  switch (event.type) {
    case 'review':
      return review(request, event, ctx, rules);
    case 'stage_timeout':
      return stageTimeout(request, event.stage, ctx, rules);
    case 'reminder_due':
      return reminderDue(request, event.stage, event.n, ctx, rules);
    case 'pending_ttl':
      return pendingTtl(request, ctx, rules);
    case 'cancel':
      return cancel(request, event.via, event.comment, ctx);
    case 'issued':
      return issued(request, event.certificate, ctx);
    case 'issue_failed':
      return issueFailed(request, event.error, ctx);
    case 'expire':
      return expire(request, ctx);
    case 'revoke':
      return revoke(request, event.via, event.comment, ctx);
    case 'break_glass_review':
      return breakGlassReview(request, event.via, event.notes, ctx, rules);
    case 'parent_closed':
      return parentClosed(request, event.parent, ctx);
    case 'review_reminder_due':
      return reviewReminderDue(request, event.n, ctx, rules);
    case 'incident_resolved':
      return incidentResolved(request, event.incident, ctx, rules);
    case 'offboarded':
      return offboarded(request, event.userId, event.reason, event.source, ctx);
  }
}
