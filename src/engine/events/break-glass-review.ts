import type { Workflow } from '../../config/policy';
import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, type Rules } from '../decision-kit';
import type { AccessRequest, Decision, DecisionContext, Effect } from '../types';

/** Reminders of an open review back off (x2 each time) up to this gap, and go on until it is closed. */
export const MAX_REVIEW_REMINDER_GAP_MS = 7 * 86_400_000;

/**
 * What follows any break-glass grant at once: the alert to the workflow's `notify` channel and
 * people, a note on the incident it rests on, and (when the workflow requires one) the
 * post-incident review opened for the reviewers, with its first reminder scheduled.
 */
export function breakGlassEffects(request: AccessRequest, workflow: Workflow, now: number): Effect[] {
  const bg = request.breakGlass;
  const effects: Effect[] = [{ type: 'notify_break_glass' }];
  if (bg?.incidentId) effects.push({ type: 'post_incident_note', event: 'granted' });
  if (bg?.reviewRequired && workflow.break_glass) {
    effects.push(
      audit(A.breakGlassReviewOpened, { id: 'system', groups: [] }, 'system', request.id, {
        incident: bg.incidentId,
        firstReminderAt: now + workflow.break_glass.review_reminder,
      }),
      { type: 'notify_break_glass_review', phase: 'opened' },
      { type: 'schedule', timer: 'review_reminder', at: now + workflow.break_glass.review_reminder, n: 0 },
    );
  }
  return effects;
}

/** The n-th reminder of an open post-incident review: the reviewers are told again, and the next one scheduled. */
export function reviewReminderDue(request: AccessRequest, n: number, ctx: DecisionContext, { workflow }: Rules): Decision {
  const bg = request.breakGlass;
  if (!bg?.reviewRequired || bg.review) return { kind: 'noop', reason: 'no open post-incident review' };
  const first = workflow?.break_glass?.review_reminder;
  if (first === undefined) return { kind: 'noop', reason: 'the workflow no longer has break-glass' };
  const gap = Math.min(first * 2 ** (n + 1), MAX_REVIEW_REMINDER_GAP_MS);
  return {
    kind: 'transition',
    request: { ...request, updatedAt: ctx.now },
    effects: [
      audit(A.breakGlassReviewReminded, ctx.actor, 'system', request.id, { n: n + 1, incident: bg.incidentId, nextAt: ctx.now + gap }),
      { type: 'notify_break_glass_review', phase: 'reminder', n: n + 1 },
      { type: 'schedule', timer: 'review_reminder', at: ctx.now + gap, n: n + 1 },
    ],
  };
}
