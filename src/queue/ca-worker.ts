import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { RequestService } from '../requests/request-service';
import type { CertificateJobs } from './certificate-jobs';
import { CloseExtensionsJobData, IssueJobData, RevokeJobData, TimerJobData } from './job-data';
import { bullPrefix, CERTIFICATES_QUEUE, TIMERS_QUEUE } from './queue-names';
import type { Reconciler } from './reconciler';

export interface CaWorkerOptions {
  connection: ConnectionOptions;
  redisPrefix: string;
  concurrency: number;
  jobs: CertificateJobs;
  service: RequestService;
  reconciler: Reconciler;
  logger: Logger;
  /** Before expiry, when the requester is warned. */
  expiryWarningMs: number;
  /**
   * Hands an issued certificate to the delivery lane again. A job that comes back (a retry, a killed
   * worker's stalled job) may have died between committing the certificate and handing it over.
   */
  deliver?: (request: AccessRequest) => Promise<void>;
  /** Stalled-job check interval; a killed worker's jobs come back after it. */
  stalledIntervalMs?: number;
  /** The periodic offboarding sweep (`offboarding-sweep` timer jobs). */
  offboarding?: { sweep(): Promise<unknown> };
}

/** The BullMQ workers of `access-bot worker`: certificates (issue, revoke, publish) and timers. */
export class CaWorker {
  private readonly workers: Worker[] = [];

  constructor(private readonly options: CaWorkerOptions) {}

  start(): void {
    const { connection, redisPrefix, concurrency, jobs, service, reconciler, logger } = this.options;
    const common = {
      connection,
      prefix: bullPrefix(redisPrefix),
      ...(this.options.stalledIntervalMs !== undefined
        ? { stalledInterval: this.options.stalledIntervalMs, lockDuration: this.options.stalledIntervalMs }
        : {}),
    };

    const certificates = new Worker(
      CERTIFICATES_QUEUE,
      async (job: Job, token?: string) => {
        switch (job.name) {
          case 'issue': {
            const data = IssueJobData.parse(job.data);
            const { outcome, request } = await jobs.issueAndRead(data.requestId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
            if (outcome.state !== 'issued' || !request) return outcome;
            const cameBack = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
            if ('signedNow' in outcome && !outcome.signedNow && cameBack && !data.warned) await this.options.deliver?.(request);
            const step = await jobs.grantStep(request, data.warned === true, this.options.expiryWarningMs);
            if ('done' in step) return outcome;
            if (step.warned && !data.warned) await job.updateData({ ...data, warned: true });
            await job.moveToDelayed(step.wakeAt, token);
            throw new DelayedError();
          }
          case 'revoke':
            return jobs.revoke(RevokeJobData.parse(job.data).requestId);
          case 'publish':
            return jobs.publish();
          default:
            throw new Error(`unknown certificates job ${job.name}`);
        }
      },
      { ...common, concurrency },
    );

    const timers = new Worker(
      TIMERS_QUEUE,
      async (job: Job) => {
        if (job.name === 'reconcile') return reconciler.run();
        if (job.name === 'offboarding-sweep') return this.options.offboarding?.sweep();
        if (job.name === 'close-extensions') return service.closeExtensions(CloseExtensionsJobData.parse(job.data).requestId);
        const data = TimerJobData.parse(job.data);
        const result = await service.handleTimer(data.requestId, data.timer, data.stage, data.n);
        return { status: result.status };
      },
      { ...common, concurrency: Math.max(4, Math.ceil(concurrency / 4)) },
    );

    for (const w of [certificates, timers]) {
      w.on('failed', (job, err) => logger.warn({ err, jobId: job?.id, queue: w.name, attempts: job?.attemptsMade }, 'job failed'));
      w.on('error', (err) => logger.error({ err, queue: w.name }, 'worker error'));
      this.workers.push(w);
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** True while every BullMQ worker is taking jobs (the worker's /readyz). */
  running(): boolean {
    return this.workers.length > 0 && this.workers.every((w) => w.isRunning());
  }

  /** Finishes the jobs in hand, takes no more. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
