import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { AuditAppender, Directory, OffboardingStore } from './ports';
import type { RequestService } from './request-service';

export type OffboardingSource = 'user_change' | 'sweep';

export interface OffboardingReport {
  revoked: number;
  cancelled: number;
  votesWithdrawn: number;
}

export const OFFBOARDING_REASON = 'the Slack account was deactivated';

/**
 * Removes the access of people who left (SOC 2 CC6.2). Slack tells the bot at once with a
 * `user_change` event for a deactivated account; the periodic sweep asks Slack (users.info) about
 * everyone who holds a grant, waits on a request or voted on one, for events that were missed.
 * Either way Slack is asked again before anything is done: an event body is a hint, and a person
 * is offboarded only when Slack itself says the account is deactivated.
 */
export class OffboardingService {
  constructor(
    private readonly deps: {
      store: OffboardingStore;
      service: RequestService;
      directory: Directory;
      audit: AuditAppender;
      logger: Logger;
      clock?: () => number;
    },
  ) {}

  /** Offboards `userId` if Slack says the account is deactivated; undefined when it is not. */
  async checkAndOffboard(userId: string, source: OffboardingSource): Promise<OffboardingReport | undefined> {
    this.deps.directory.forget?.(userId);
    const actor = await this.deps.directory.actor(userId);
    if (actor.inactive !== 'deleted') return undefined;
    return this.offboard(userId, source);
  }

  /** Revokes the person's grants, cancels their pending requests, withdraws their votes; audits what it did. */
  async offboard(userId: string, source: OffboardingSource): Promise<OffboardingReport> {
    const report: OffboardingReport = { revoked: 0, cancelled: 0, votesWithdrawn: 0 };
    const requests: string[] = [];
    const act = async (request: AccessRequest, count: keyof OffboardingReport) => {
      const result = await this.deps.service.offboard(request.id, userId, OFFBOARDING_REASON, source);
      if (result.status === 'ok') {
        report[count]++;
        requests.push(request.id);
      }
    };
    for await (const batch of this.deps.store.walkByRequester(userId)) {
      for (const request of batch) {
        if (request.state === 'approved' || request.state === 'issued') await act(request, 'revoked');
        else if (request.state === 'pending') await act(request, 'cancelled');
      }
    }
    for await (const batch of this.deps.store.walkPendingForApprover(userId))
      for (const request of batch) if (request.reviews.some((r) => r.by === userId && r.stage === request.stage)) await act(request, 'votesWithdrawn');

    if (report.revoked + report.cancelled + report.votesWithdrawn > 0) {
      await this.deps.audit.append(
        [{ type: A.userOffboarded, actor: { id: 'system', via: 'system' }, data: { user: userId, source, reason: OFFBOARDING_REASON, ...report, requests } }],
        (this.deps.clock ?? Date.now)(),
      );
      this.deps.logger.info({ user: userId, source, ...report }, 'offboarded a deactivated Slack user');
    }
    return report;
  }

  /**
   * Asks Slack about everyone who holds a grant, waits on a pending request or voted on one, once
   * each, and offboards the deactivated. A lookup that fails is skipped (logged): the next sweep
   * tries again, and nothing is opened by a failure.
   */
  async sweep(): Promise<{ checked: number; offboarded: number; failed: number }> {
    const people = new Set<string>();
    for await (const batch of this.deps.store.walkActiveEndingBy(Number.MAX_SAFE_INTEGER)) for (const r of batch) people.add(r.requester.id);
    for await (const batch of this.deps.store.walkByState('pending')) {
      for (const r of batch) {
        people.add(r.requester.id);
        for (const review of r.reviews) if (review.stage === r.stage) people.add(review.by);
      }
    }
    let offboarded = 0;
    let failed = 0;
    for (const userId of people) {
      try {
        if (await this.checkAndOffboard(userId, 'sweep')) offboarded++;
      } catch (err) {
        failed++;
        this.deps.logger.warn({ err, user: userId }, 'offboarding sweep: could not look this person up; next sweep tries again');
      }
    }
    if (offboarded > 0 || failed > 0) this.deps.logger.info({ checked: people.size, offboarded, failed }, 'offboarding sweep');
    return { checked: people.size, offboarded, failed };
  }
}
