import type { Policy } from '../config/policy';
import type { Logger } from '../log/logger';
import type { Scheduler } from '../requests/ports';
import type { RequestService } from '../requests/request-service';
import type { RedisRequestStore } from '../store/redis-request-store';

/**
 * An approval younger than this still has its issuance job on the way (enqueue follows commit by
 * milliseconds). Re-enqueuing it would be harmless but not free: at a worker start with a full
 * queue, measured, re-adding every approved request cost a tenth of the worker's CPU.
 */
export const RECONCILE_MIN_AGE_MS = 30_000;

export interface ReconcileReport {
  issuanceEnqueued: number;
  expired: number;
  timedOut: number;
  escalated: number;
}

/**
 * Repairs what a crash between a state change and its follow-up work could leave behind:
 * approved-but-not-issued requests get their issuance job again (idempotent by job id), grants
 * past their end are expired, and pending requests past a stage timeout or their TTL move on.
 * Runs at worker start and then periodically (a BullMQ job scheduler: one replica per tick).
 */
export class Reconciler {
  constructor(
    private readonly store: RedisRequestStore,
    private readonly service: RequestService,
    private readonly scheduler: Scheduler,
    private readonly policy: () => Policy,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async run(): Promise<ReconcileReport> {
    const now = this.clock();
    const report: ReconcileReport = { issuanceEnqueued: 0, expired: 0, timedOut: 0, escalated: 0 };

    for (const request of await this.store.listByState('approved', 5000)) {
      if (request.expiresAt !== undefined && request.expiresAt <= now) continue;
      if (request.approvedAt !== undefined && request.approvedAt > now - RECONCILE_MIN_AGE_MS) continue;
      await this.scheduler.enqueueIssuance(request);
      report.issuanceEnqueued++;
    }

    for (const request of await this.store.listActiveEndingBy(now, 5000)) {
      const r = await this.service.handleTimer(request.id, 'expiry');
      if (r.status === 'ok') report.expired++;
    }

    const policy = this.policy();
    for (const request of await this.store.listByState('pending', 5000)) {
      const workflow = policy.workflows.get(request.workflow);
      if (!workflow) continue;
      if (now >= request.createdAt + workflow.pending_ttl) {
        if ((await this.service.handleTimer(request.id, 'pending_ttl')).status === 'ok') report.timedOut++;
        continue;
      }
      const stage = workflow.stages[request.stage];
      if (stage?.timeout !== undefined && now >= request.stageStartedAt + stage.timeout) {
        if ((await this.service.handleTimer(request.id, 'stage_timeout', request.stage)).status === 'ok') report.escalated++;
      }
    }
    if (report.issuanceEnqueued + report.expired + report.timedOut + report.escalated > 0) this.logger.info(report, 'reconciled');
    return report;
  }
}
