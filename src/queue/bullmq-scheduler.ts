import type { Queue } from 'bullmq';
import type { AccessRequest, TimerKind } from '../engine/types';
import type { DeliveredNotice, Scheduler } from '../requests/ports';
import type { TimerJobData } from './job-data';
import { jobIds } from './queue-names';

export const APPROVED_NOTICE_DELAY_MS = 10_000;
/** Defaults: about an hour of retries (Slack down, the person's DM refused), then audited as failed. */
export const DELIVERY_RETRY = { attempts: 12, backoffMs: 1000 };

/**
 * Durable work through BullMQ. Job ids derive from the request, so enqueuing twice (a retry, the
 * reconciler) is harmless: BullMQ keeps one job per id.
 */
export class BullmqScheduler implements Scheduler {
  constructor(
    private readonly certificates: Queue,
    private readonly timers: Queue,
    private readonly deliveries: Queue,
    private readonly clock: () => number = Date.now,
    private readonly deliveryRetry: { attempts: number; backoffMs: number } = DELIVERY_RETRY,
  ) {}

  /**
   * The certificate DM goes at once. The "approved" DM waits APPROVED_NOTICE_DELAY_MS and is sent
   * only if no certificate (or failure) has been told meanwhile: the certificate DM says it was
   * approved, so a healthy worker makes it one DM, and a slow one still tells the requester.
   */
  async deliverToRequester(request: AccessRequest, notice: DeliveredNotice): Promise<void> {
    await this.deliveries.add(
      notice,
      { requestId: request.id, notice },
      {
        jobId: jobIds.deliver(notice, request.id),
        ...(notice === 'approved' ? { delay: APPROVED_NOTICE_DELAY_MS } : {}),
        attempts: this.deliveryRetry.attempts,
        backoff: { type: 'exponential', delay: this.deliveryRetry.backoffMs },
      },
    );
  }

  async enqueueIssuance(request: AccessRequest): Promise<void> {
    await this.certificates.add(
      'issue',
      { requestId: request.id },
      { jobId: jobIds.issue(request.id), attempts: 5, backoff: { type: 'exponential', delay: 500 } },
    );
  }

  async schedule(request: AccessRequest, timer: TimerKind, at: number, stage?: number, n?: number): Promise<void> {
    const data: TimerJobData = { requestId: request.id, timer, ...(stage !== undefined ? { stage } : {}), ...(n !== undefined ? { n } : {}) };
    await this.timers.add(timer, data, {
      jobId: jobIds.timer(timer, request.id, stage, n),
      delay: Math.max(0, at - this.clock()),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  async closeExtensions(request: AccessRequest): Promise<void> {
    await this.timers.add(
      'close-extensions',
      { requestId: request.id },
      { jobId: jobIds.closeExtensions(request.id), attempts: 10, backoff: { type: 'exponential', delay: 500 } },
    );
  }

  async revokeCertificate(request: AccessRequest): Promise<void> {
    await this.certificates.add(
      'revoke',
      { requestId: request.id },
      { jobId: jobIds.revoke(request.id), attempts: 10, backoff: { type: 'exponential', delay: 500 } },
    );
  }
}
