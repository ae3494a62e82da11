import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Notifier } from '../requests/ports';
import type { RedisKeys } from '../store/redis-keys';
import { DeliveryJobData } from './job-data';
import { bullPrefix, DELIVERIES_QUEUE } from './queue-names';

/** Slack errors no retry mends: the person or their DM is gone, or the app may not message them. */
const PERMANENT = new Set(['user_not_found', 'user_disabled', 'cannot_dm_bot', 'not_allowed_token_type', 'account_inactive', 'invalid_auth', 'token_revoked']);
const DELIVERED_TTL_MS = 30 * 86_400_000;

export interface DeliveryWorkerOptions {
  connection: ConnectionOptions;
  redisPrefix: string;
  redis: Redis;
  keys: RedisKeys;
  /** The delivery lane's notifier (its own Slack client). */
  notifier: Notifier;
  requests: { get(id: string): Promise<AccessRequest | undefined> };
  audit: Pick<RedisAuditLog, 'append'>;
  logger: Logger;
  concurrency?: number;
  clock?: () => number;
}

/**
 * Works the delivery lane: the certificate DM (and the "approved" DM, when no certificate came
 * soon after it). The issuance job only commits the certificate and enqueues this, so no signing
 * slot ever waits on Slack. A job is retried with backoff until the DM is sent; after the last try
 * it is audited as failed (`external.failed`), never dropped silently. BullMQ runs a job at least
 * once, so each sent DM is marked in Redis and a repeated job sends nothing.
 */
export class DeliveryWorker {
  private worker: Worker | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    const { connection, redisPrefix, logger } = this.options;
    const worker = new Worker(DELIVERIES_QUEUE, (job: Job) => this.process(job), {
      connection,
      prefix: bullPrefix(redisPrefix),
      concurrency: this.options.concurrency ?? 32,
    });
    worker.on('failed', (job, err) => {
      const final = job !== undefined && (err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1));
      logger.warn({ err, jobId: job?.id, attempts: job?.attemptsMade, final }, 'delivery failed');
      if (job && final) void this.auditFailed(job, err);
    });
    worker.on('error', (err) => logger.error({ err, queue: DELIVERIES_QUEUE }, 'worker error'));
    this.worker = worker;
  }

  async waitUntilReady(): Promise<void> {
    await this.worker?.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }

  private deliveredKey(requestId: string): string {
    return this.options.keys.adapterState('delivery', requestId);
  }

  async process(job: Job): Promise<string> {
    const { requestId, notice } = DeliveryJobData.parse(job.data);
    const request = await this.options.requests.get(requestId);
    if (!request) return 'request gone';
    if (notice === 'issued' && !request.certificate) return 'no certificate';
    // The approval DM only while nothing newer was told: the certificate or the failure DM says it.
    if (notice === 'approved' && request.state !== 'approved') return `skipped: request is ${request.state}`;
    const key = this.deliveredKey(requestId);
    if (await this.options.redis.hexists(key, notice)) return 'already delivered';
    try {
      await this.options.notifier.requester(request, notice);
    } catch (err) {
      const slackError = (err as { slackError?: unknown }).slackError;
      if (typeof slackError === 'string' && PERMANENT.has(slackError)) throw new UnrecoverableError(`Slack: ${slackError}`);
      throw err;
    }
    await this.options.redis.multi().hset(key, notice, String(this.clock())).pexpire(key, DELIVERED_TTL_MS).exec();
    return 'delivered';
  }

  private async auditFailed(job: Job, err: Error): Promise<void> {
    const parsed = DeliveryJobData.safeParse(job.data);
    try {
      await this.options.audit.append(
        [
          {
            type: AUDIT_EVENT_TYPES.externalCallFailed,
            actor: { id: 'system', via: 'system' },
            ...(parsed.success ? { requestId: parsed.data.requestId } : {}),
            data: {
              effect: 'notify_requester',
              notice: parsed.success ? parsed.data.notice : 'unknown',
              attempts: job.attemptsMade,
              error: err.message.slice(0, 500),
            },
          },
        ],
        this.clock(),
      );
    } catch (auditErr) {
      this.options.logger.error({ err: auditErr, jobId: job.id }, 'could not audit a failed delivery');
    }
  }
}
