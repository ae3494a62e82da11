import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { AccessRequest, Effect } from '../engine/types';
import type { Logger } from '../log/logger';
import { incidentNoteText } from './incident-note-text';
import { releaseWorkSlot } from './work-slot';
import type { Notifier, OnCall, Scheduler } from './ports';

/**
 * Carries out the effects of a committed transition. Durable work (queue, timers, revocation) runs
 * first, then messages. A failing effect is logged and audited as `external.failed` and does not
 * stop the others: the state change has already happened, and the reconciler re-drives issuance.
 */
export class EffectRunner {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly notifier: Notifier,
    private readonly audit: RedisAuditLog,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    /** PagerDuty, for notes on the incident a break-glass grant rests on. */
    private readonly oncall?: OnCall,
  ) {}

  /** Who took what, until when, and the request id, on the incident itself: responders see it where they work. */
  private async postIncidentNote(request: AccessRequest, event: 'granted' | 'ended'): Promise<void> {
    const incidentId = request.breakGlass?.incidentId;
    if (!incidentId || !this.oncall?.enabled) return;
    await this.oncall.postNote(incidentId, incidentNoteText(request, event, this.clock()));
  }

  async run(request: AccessRequest, effects: Effect[]): Promise<void> {
    const isDurable = (e: Effect) =>
      e.type === 'enqueue_issuance' || e.type === 'schedule' || e.type === 'revoke_certificate' || e.type === 'close_extensions' || this.delivered(request, e);
    const durable = effects.filter(isDurable);
    const messages = effects.filter((e) => !isDurable(e) && e.type !== 'audit');
    for (const effect of durable) await this.attempt(request, effect);
    // Committed and enqueued: the messages below wait on Slack, not on this process's work slots.
    releaseWorkSlot();
    await Promise.all(messages.map((effect) => this.attempt(request, effect)));
  }

  /**
   * The certificate and approval DMs go through the delivery lane when the scheduler has one. A
   * break-glass approval is told at once: it carries the review duty the certificate DM does not.
   */
  private delivered(request: AccessRequest, effect: Effect): boolean {
    return (
      this.scheduler.deliverToRequester !== undefined &&
      effect.type === 'notify_requester' &&
      (effect.notice === 'issued' || (effect.notice === 'approved' && request.breakGlass === undefined))
    );
  }

  private async attempt(request: AccessRequest, effect: Effect): Promise<void> {
    try {
      await this.perform(request, effect);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error({ err, requestId: request.id, effect: effect.type }, 'effect failed');
      try {
        await this.audit.append(
          [
            {
              type: AUDIT_EVENT_TYPES.externalCallFailed,
              actor: { id: 'system', via: 'system' },
              requestId: request.id,
              data: { effect: effect.type, error: message.slice(0, 500) },
            },
          ],
          this.clock(),
        );
      } catch (auditErr) {
        this.logger.error({ err: auditErr, requestId: request.id }, 'could not audit a failed effect');
      }
    }
  }

  private perform(request: AccessRequest, effect: Effect): Promise<void> {
    switch (effect.type) {
      case 'enqueue_issuance':
        return this.scheduler.enqueueIssuance(request);
      case 'schedule':
        return this.scheduler.schedule(request, effect.timer, effect.at, effect.stage, effect.n);
      case 'revoke_certificate':
        return this.scheduler.revokeCertificate(request);
      case 'close_extensions':
        return this.scheduler.closeExtensions(request);
      case 'notify_approvers':
        return this.notifier.approvers(request, effect.stage, effect.reason);
      case 'update_approval_messages':
        return this.notifier.updateApprovalMessages(request);
      case 'notify_requester':
        if (this.delivered(request, effect) && this.scheduler.deliverToRequester)
          return this.scheduler.deliverToRequester(request, effect.notice === 'issued' ? 'issued' : 'approved');
        return this.notifier.requester(request, effect.notice);
      case 'notify_break_glass':
        return this.notifier.breakGlass(request);
      case 'notify_break_glass_review':
        return this.notifier.breakGlassReview(request, effect.phase, effect.n);
      case 'post_incident_note':
        return this.postIncidentNote(request, effect.event);
      case 'audit':
        return Promise.resolve();
    }
  }
}
