import type { Redis } from 'ioredis';
import { parseStreamEntry } from '../audit/redis-audit-log';
import type { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import type { Logger } from '../log/logger';
import type { RedisKeys } from '../store/redis-keys';
import { compareStreamIds, nextStreamId } from './stream-id';

export interface TrimResult {
  /** Events removed from the stream by this run. */
  trimmed: number;
  /** The anchor after the run: the last event no longer in Redis. */
  anchor?: { seq: number; hash: string };
  /** Why nothing (more) could be trimmed, when that is not just "nothing is old enough". */
  heldBy?: string;
}

/**
 * Trims audit events older than the retention out of the Redis stream, but only events that
 * every consumer group (the archive's among them) has acknowledged, i.e. that are committed in
 * PostgreSQL. The last trimmed event's seq and hash stay behind as the chain anchor, written in
 * the same MULTI as the trim, so `audit verify` over Redis proves the rest from there and the
 * archive proves everything before it.
 */
export class AuditTrimmer {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly archive: PostgresAuditArchive,
    private readonly archiveGroup: string,
    private readonly logger: Logger,
  ) {}

  async trim(now: number, retentionMs: number): Promise<TrimResult> {
    const stream = this.keys.auditStream;
    let limit = `${Math.max(0, now - retentionMs)}-0`;
    let heldBy: string | undefined;

    const groups = (await this.redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
    const byName = new Map<string, Record<string, unknown>>();
    for (const g of groups) {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i + 1 < g.length; i += 2) fields[String(g[i])] = g[i + 1];
      byName.set(String(fields.name), fields);
    }
    if (!byName.has(this.archiveGroup)) return { trimmed: 0, heldBy: `no ${this.archiveGroup} consumer group yet: nothing is archived` };
    for (const [name, g] of byName) {
      // Entries at or after this id are not acknowledged by the group yet.
      let firstUnsafe = nextStreamId(String(g['last-delivered-id']));
      if (Number(g.pending) > 0) {
        const summary = (await this.redis.xpending(stream, name)) as [number, string | null, string | null, unknown];
        if (summary[1] && compareStreamIds(summary[1], firstUnsafe) < 0) firstUnsafe = summary[1];
      }
      if (compareStreamIds(firstUnsafe, limit) < 0) {
        limit = firstUnsafe;
        heldBy = `consumer group ${name} has not acknowledged events from ${firstUnsafe}`;
      }
    }

    const last = (await this.redis.xrevrange(stream, `(${limit}`, '-', 'COUNT', 1)) as [string, string[]][];
    const entry = last[0];
    const current = await this.anchor();
    if (!entry) return { trimmed: 0, ...(current ? { anchor: current } : {}), ...(heldBy ? { heldBy } : {}) };
    const event = parseStreamEntry(entry[0], entry[1]);
    if (current && event.seq <= current.seq) return { trimmed: 0, anchor: current, ...(heldBy ? { heldBy } : {}) };

    // Acknowledged means committed, but never drop an event the archive does not hold identically.
    const archived = await this.archive.hashAt(event.seq);
    if (archived !== event.hash) {
      this.logger.error({ seq: event.seq, redis: event.hash, archived }, 'audit archive does not hold this event as Redis does; not trimming');
      return { trimmed: 0, ...(current ? { anchor: current } : {}), heldBy: `archive mismatch at event ${event.seq}` };
    }

    await this.redis.watch(this.keys.auditAnchor);
    const again = await this.anchor();
    if (again?.seq !== current?.seq) {
      await this.redis.unwatch();
      return { trimmed: 0, ...(again ? { anchor: again } : {}), heldBy: 'another replica trimmed at the same time' };
    }
    const done = await this.redis
      .multi()
      .hset(this.keys.auditAnchor, 'seq', event.seq, 'hash', event.hash, 'id', entry[0], 'at', event.at)
      .xtrim(stream, 'MINID', nextStreamId(entry[0]))
      .exec();
    if (done === null) return { trimmed: 0, ...(current ? { anchor: current } : {}), heldBy: 'another replica trimmed at the same time' };
    const trimmed = Number(done[1]?.[1] ?? 0);
    return { trimmed, anchor: { seq: event.seq, hash: event.hash }, ...(heldBy ? { heldBy } : {}) };
  }

  private async anchor(): Promise<{ seq: number; hash: string } | undefined> {
    const [seq, hash] = await this.redis.hmget(this.keys.auditAnchor, 'seq', 'hash');
    return seq != null && hash != null ? { seq: Number(seq), hash } : undefined;
  }
}
