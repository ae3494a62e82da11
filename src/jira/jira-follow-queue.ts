import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { AccessRequest } from '../engine/types';
import type { Logger } from '../log/logger';
import type { AuditAppender } from '../requests/ports';
import { bullPrefix, JIRA_QUEUE, jobIds } from '../queue/queue-names';
import { JiraApiError } from './errors/jira-api-error';
import { JiraAuthError } from './errors/jira-auth-error';
import type { JiraIssueState } from './jira-issue-state';

const FollowJobData = z.object({ requestId: z.string().regex(/^ar-[a-z0-9]{1,40}$/), version: z.number().int().min(0).optional() });

export interface JiraFollowQueueOptions {
  connection: ConnectionOptions;
  redisPrefix: string;
  state: JiraIssueState;
  audit: AuditAppender;
  logger: Logger;
  /** Brings the request's issue in line (JiraIssues.follow). */
  follow: (requestId: string) => Promise<void>;
  /** Posts a stage reminder on the issue (JiraIssues.remind). */
  remind: (requestId: string, version: number) => Promise<void>;
  /** Tries per change before giving up (audited). Default 8. */
  attempts?: number;
  /** First wait between tries; doubles each time. Default 2 s (8 tries span about 4 minutes, past Jira's search lag). */
  backoffMs?: number;
  clock?: () => number;
}

/**
 * Jira work as BullMQ jobs, so a Jira that is down or slow never holds up a decision taken
 * elsewhere: every change of a request on a Jira workflow enqueues one job (id: request and
 * version), which brings the issue in line; failures retry with exponential backoff and are audited
 * (`external.failed`) after the last try. Jobs of one request take turns (a Redis lease), so two
 * replicas never post the same comment twice.
 */
export class JiraFollowQueue {
  readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly clock: () => number;

  constructor(private readonly options: JiraFollowQueueOptions) {
    this.attempts = options.attempts ?? 8;
    this.backoffMs = options.backoffMs ?? 2_000;
    this.clock = options.clock ?? Date.now;
    this.queue = new Queue(JIRA_QUEUE, { connection: options.connection, prefix: bullPrefix(options.redisPrefix) });
  }

  async enqueue(request: AccessRequest, kind: 'follow' | 'remind' = 'follow'): Promise<void> {
    await this.queue.add(
      kind,
      { requestId: request.id, version: request.version },
      {
        jobId: kind === 'remind' ? jobIds.jiraRemind(request.id, request.version) : jobIds.jiraFollow(request.id, request.version),
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: this.backoffMs },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
  }

  /** Runs the jobs (the bot does; a worker-only process just enqueues). */
  start(concurrency = 4): void {
    const { logger, state } = this.options;
    const worker = new Worker(
      JIRA_QUEUE,
      async (job: Job, token?: string) => {
        const { requestId, version } = FollowJobData.parse(job.data);
        const owner = `${job.id ?? 'job'}:${token ?? ''}`;
        if (!(await state.lock(requestId, owner, 60_000))) {
          // Another job of this request is at work: come back shortly, without using up a try.
          await job.moveToDelayed(this.clock() + 250 + Math.floor(Math.random() * 250), token);
          throw new DelayedError();
        }
        try {
          if (job.name === 'remind') await this.options.remind(requestId, version ?? 0);
          else await this.options.follow(requestId);
        } catch (err) {
          // A refusal by Jira (a field, a missing transition, bad credentials) is the same next time.
          if (err instanceof JiraApiError || err instanceof JiraAuthError) throw new UnrecoverableError(err.message);
          throw err;
        } finally {
          await state.unlock(requestId, owner).catch(() => undefined);
        }
      },
      { connection: this.options.connection, prefix: bullPrefix(this.options.redisPrefix), concurrency },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const last = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      logger.warn({ err, jobId: job.id, attempts: job.attemptsMade, last }, last ? 'Jira follow-up failed for good' : 'Jira follow-up failed; retrying');
      if (!last) return;
      const requestId = (job.data as { requestId?: string }).requestId;
      this.options.audit
        .append(
          [
            {
              type: A.externalCallFailed,
              actor: { id: 'system', via: 'jira' },
              ...(requestId ? { requestId } : {}),
              data: { service: 'jira', what: 'bringing the request\'s Jira issue in line', attempts: job.attemptsMade, error: err.message.slice(0, 500) },
            },
          ],
          this.clock(),
        )
        .catch((auditErr: unknown) => logger.error({ err: auditErr }, 'could not audit a failed Jira follow-up'));
    });
    worker.on('error', (err) => logger.error({ err }, 'Jira follow-up worker error'));
    this.worker = worker;
  }

  async waitUntilReady(): Promise<void> {
    await this.worker?.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
