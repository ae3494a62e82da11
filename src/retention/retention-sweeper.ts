import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import type { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import { formatDuration } from '../config/duration';
import type { Logger } from '../log/logger';
import type { RedisKeys } from '../store/redis-keys';
import { AuditTrimmer, type TrimResult } from './audit-trimmer';
import { RequestPurger, type PurgeResult } from './request-purger';

export interface RetentionSettings {
  /** AUDIT_REDIS_RETENTION: needs the archive. */
  auditMs?: number;
  /** REQUEST_RETENTION. */
  requestsMs?: number;
}

export interface SweepResult {
  audit?: TrimResult;
  requests?: PurgeResult;
  /** Another replica held the sweep lock. */
  skipped?: true;
}

/**
 * Applies the retention settings now and then (every replica runs one; a lock in Redis lets one
 * sweep at a time). Each run that removed something says how much in one audit event, so the
 * log records what left Redis and when.
 */
export class RetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly trimmer?: AuditTrimmer;
  private readonly purger: RequestPurger;

  constructor(
    /** A connection of its own (WATCH/MULTI). */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly audit: RedisAuditLog,
    private readonly settings: RetentionSettings,
    private readonly logger: Logger,
    archive?: { archive: PostgresAuditArchive; group: string },
    private readonly clock: () => number = Date.now,
  ) {
    if (archive) this.trimmer = new AuditTrimmer(redis, keys, archive.archive, archive.group, logger);
    this.purger = new RequestPurger(redis, keys);
  }

  get enabled(): boolean {
    return (this.settings.auditMs !== undefined && this.trimmer !== undefined) || this.settings.requestsMs !== undefined;
  }

  async sweep(now = this.clock()): Promise<SweepResult> {
    const token = randomBytes(8).toString('hex');
    const locked = await this.redis.set(this.keys.retentionLock, token, 'PX', 10 * 60_000, 'NX');
    if (locked !== 'OK') return { skipped: true };
    try {
      const result: SweepResult = {};
      const system = { id: 'system', via: 'system' as const };
      if (this.trimmer && this.settings.auditMs !== undefined) {
        result.audit = await this.trimmer.trim(now, this.settings.auditMs);
        if (result.audit.trimmed > 0)
          await this.audit.append(
            [
              {
                type: AUDIT_EVENT_TYPES.auditTrimmed,
                actor: system,
                data: { events: result.audit.trimmed, anchor: result.audit.anchor, olderThan: formatDuration(this.settings.auditMs) },
              },
            ],
            this.clock(),
          );
        if (result.audit.heldBy) this.logger.debug({ heldBy: result.audit.heldBy }, 'audit retention held back');
      }
      if (this.settings.requestsMs !== undefined) {
        result.requests = await this.purger.purge(now, this.settings.requestsMs);
        if (result.requests.removed > 0)
          await this.audit.append(
            [
              {
                type: AUDIT_EVENT_TYPES.requestsRemoved,
                actor: system,
                data: { count: result.requests.removed, byState: result.requests.byState, olderThan: formatDuration(this.settings.requestsMs) },
              },
            ],
            this.clock(),
          );
      }
      if (result.audit?.trimmed || result.requests?.removed)
        this.logger.info({ auditTrimmed: result.audit?.trimmed ?? 0, requestsRemoved: result.requests?.removed ?? 0 }, 'retention applied');
      return result;
    } finally {
      // Release only our own lock.
      const current = await this.redis.get(this.keys.retentionLock);
      if (current === token) await this.redis.del(this.keys.retentionLock);
    }
  }

  start(everyMs: number): void {
    const run = () => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err: unknown) => this.logger.error({ err }, 'retention sweep failed'))
        .finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
