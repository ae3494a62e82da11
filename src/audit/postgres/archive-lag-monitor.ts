import type { Logger } from '../../log/logger';
import type { RedisAuditLog } from '../redis-audit-log';
import type { PostgresAuditArchive } from './postgres-audit-archive';

export interface ArchiveStatus {
  ok: boolean;
  /** Head of the chain in Redis. */
  redisSeq: number;
  /** Highest sequence number archived. */
  archivedSeq: number;
  /** Events written to Redis and not archived yet. */
  lag: number;
  error?: string;
}

/** Lag above this many events that grew since the last check is logged as a warning. */
export const LAG_WARNING = 100;

/**
 * How far the PostgreSQL archive trails the Redis chain. `/readyz` shows it; the log warns while
 * it grows past LAG_WARNING, and says once when it has caught up again.
 */
export class ArchiveLagMonitor {
  private timer?: NodeJS.Timeout;
  private last?: ArchiveStatus;
  private warned = false;

  constructor(
    private readonly archive: PostgresAuditArchive,
    private readonly audit: RedisAuditLog,
    private readonly logger: Logger,
    private readonly everyMs = 30_000,
  ) {}

  async status(): Promise<ArchiveStatus> {
    const redisSeq = (await this.audit.head()).seq;
    try {
      const archivedSeq = (await this.archive.head())?.seq ?? 0;
      return { ok: true, redisSeq, archivedSeq, lag: Math.max(0, redisSeq - archivedSeq) };
    } catch (err) {
      return { ok: false, redisSeq, archivedSeq: this.last?.archivedSeq ?? 0, lag: redisSeq - (this.last?.archivedSeq ?? 0), error: (err as Error).message };
    }
  }

  /** One line for /readyz. */
  async describe(): Promise<string> {
    const s = await this.status();
    if (!s.ok) return `down: ${s.error} (Redis keeps every event until the archive is back)`;
    return `ok: archived to ${s.archivedSeq}, ${s.lag} behind Redis`;
  }

  async check(): Promise<ArchiveStatus> {
    const s = await this.status();
    const previous = this.last;
    this.last = s;
    if (!s.ok) this.logger.error({ archive: s }, 'audit archive unreachable; events wait in Redis');
    else if (s.lag > LAG_WARNING && (previous === undefined || s.lag >= previous.lag)) {
      this.warned = true;
      this.logger.warn({ lag: s.lag, archivedSeq: s.archivedSeq, redisSeq: s.redisSeq }, 'audit archive lag is growing');
    } else if (this.warned && s.lag <= LAG_WARNING) {
      this.warned = false;
      this.logger.info({ lag: s.lag }, 'audit archive caught up');
    }
    return s;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) => this.logger.error({ err }, 'audit archive lag check failed'));
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

