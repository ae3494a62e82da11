import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import type { RedisKeys } from '../store/redis-keys';
import type { JiraClient } from './jira-client';
import { BASE_LABEL } from './jira-issue-text';

export interface JiraPollerOptions {
  client: JiraClient;
  redis: Redis;
  keys: RedisKeys;
  /** The webhook's path for one issue (JiraDecisions.onIssue). */
  handle: (issueKey: string) => Promise<unknown>;
  intervalMs: number;
  logger: Logger;
  clock?: () => number;
}

/** Looked back past the last poll, for Jira's search lag and clocks that differ a little. */
const OVERLAP_MS = 2 * 60_000;

/**
 * The fallback for webhooks that never came (or were never set up): every interval, one JQL query
 * on the enhanced search for access-bot issues updated since the last poll, each handled exactly
 * as a webhook would be. The cursor is shared by replicas in Redis and moves only when every issue
 * was handled; each changelog entry is acted on once, so polls that overlap (or two replicas
 * polling) do nothing twice.
 */
export class JiraPoller {
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: JiraPollerOptions) {
    this.clock = options.clock ?? Date.now;
  }

  private get cursorKey(): string {
    return this.options.keys.adapterGlobal('jira', 'poll');
  }

  /** One poll; returns how many issues it looked at. */
  async poll(): Promise<number> {
    const { client, redis, logger } = this.options;
    const now = this.clock();
    const last = Number((await redis.get(this.cursorKey)) ?? Number.NaN);
    const since = Number.isFinite(last) ? last - OVERLAP_MS : now - 2 * this.options.intervalMs - OVERLAP_MS;
    // Relative minutes: an absolute date in JQL is read in the API user's time zone.
    const minutes = Math.max(1, Math.ceil((now - since) / 60_000));
    const issues = await client.search(`labels = "${BASE_LABEL}" AND updated >= -${minutes}m ORDER BY updated ASC`);
    let failed = 0;
    for (const issue of issues) {
      try {
        await this.options.handle(issue.key);
      } catch (err) {
        failed++;
        logger.warn({ err, issue: issue.key }, 'Jira poll: issue could not be handled; looked at again next poll');
      }
    }
    if (failed === 0) await redis.set(this.cursorKey, String(now));
    return issues.length;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.poll()
        .catch((err: unknown) => {
          this.options.logger.warn({ err }, 'Jira poll failed');
          return 0;
        })
        .finally(() => {
          this.running = undefined;
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
