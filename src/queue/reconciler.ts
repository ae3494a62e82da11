import type { Counter } from 'prom-client';
import type { Policy } from '../config/policy';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { MetricsRegistry } from '../metrics/metrics-registry';
import type { Scheduler } from '../requests/ports';
import type { RequestService } from '../requests/request-service';
import type { RedisRequestStore } from '../store/redis-request-store';

/**
 * An approval younger than this still has its issuance job on the way (enqueue follows commit by
 * milliseconds). Re-enqueuing it would be harmless but not free: at a worker start with a full
 * queue, measured, re-adding every approved request cost a tenth of the worker's CPU.
 */
export const RECONCILE_MIN_AGE_MS = 30_000;

/** Requests read from Redis at a time: memory and Redis time per step stay bounded at any size. */
export const RECONCILE_BATCH = 500;

export interface ReconcileReport {
  issuanceEnqueued: number;
  expired: number;
  timedOut: number;
  escalated: number;
  /** Extensions closed because the grant they extend was closed (the cascade's backstop). */
  extensionsClosed: number;
  /** Counts of rate-limited refusals written to the audit log. */
  refusalCountsReported: number;
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
    private readonly options: { batch?: number; metrics?: MetricsRegistry } = {},
  ) {
    this.findings = options.metrics?.counter({
      name: 'reconciler_findings_total',
      help: 'What the reconciler repaired, by kind (issuanceEnqueued, expired, timedOut, escalated, extensionsClosed, refusalCountsReported)',
      labelNames: ['kind'],
    });
  }

  private readonly findings?: Counter<'kind'>;

  async run(): Promise<ReconcileReport> {
    const now = this.clock();
    const report: ReconcileReport = { issuanceEnqueued: 0, expired: 0, timedOut: 0, escalated: 0, extensionsClosed: 0, refusalCountsReported: 0 };
    const batch = this.options.batch ?? RECONCILE_BATCH;

    // Every approved request, oldest first, however many: a backstop that only looked at the newest
    // few thousand would never reach the oldest ones, which are exactly the ones that were lost.
    for await (const requests of this.store.walkByState('approved', batch)) {
      for (const request of requests) {
        if (request.expiresAt !== undefined && request.expiresAt <= now) continue;
        if (request.approvedAt !== undefined && request.approvedAt > now - RECONCILE_MIN_AGE_MS) continue;
        await this.scheduler.enqueueIssuance(request);
        report.issuanceEnqueued++;
      }
    }

    for await (const requests of this.store.walkActiveEndingBy(now, batch)) {
      for (const request of requests) {
        const r = await this.service.handleTimer(request.id, 'expiry');
        if (r.status === 'ok') report.expired++;
      }
    }

    // An extension outlives a revoked grant only if the cascade was lost (a crash between the
    // revocation and its queued job): close it here. Live grants here, pending extensions below.
    for await (const requests of this.store.walkActiveEndingBy(Number.MAX_SAFE_INTEGER, batch))
      for (const request of requests) if (await this.closeOrphanExtension(request)) report.extensionsClosed++;
    report.refusalCountsReported = await this.service.flushSuppressedRefusals();

    const policy = this.policy();
    for await (const requests of this.store.walkByState('pending', batch)) {
      for (const request of requests) {
        if (await this.closeOrphanExtension(request)) {
          report.extensionsClosed++;
          continue;
        }
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
    }
    for (const [kind, n] of Object.entries(report)) if (n > 0) this.findings?.inc({ kind }, n);
    if (Object.values(report).some((n) => n > 0)) this.logger.info(report, 'reconciled');
    return report;
  }

  /** Closes the extensions of a grant that is no longer live; true when it closed some. */
  private async closeOrphanExtension(request: AccessRequest): Promise<boolean> {
    if (request.extension === undefined) return false;
    const parent = await this.store.get(request.extension.of);
    if (!parent || parent.state === 'pending' || parent.state === 'approved' || parent.state === 'issued') return false;
    return (await this.service.closeExtensions(parent.id)).status === 'ok';
  }
}
