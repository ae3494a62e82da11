import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../store/redis-keys';
import { parseStreamEntry, type RedisAuditLog } from '../redis-audit-log';
import type { PostgresAuditArchive } from './postgres-audit-archive';

export type OverlapResult =
  | { ok: true; seq: number; message: string }
  | { ok: true; seq?: undefined; message: string }
  | { ok: false; seq: number; message: string };

/**
 * Whether the archive and Redis hold the same chain where both have events. Both chains verify on
 * their own, so equal hashes at the highest sequence number both hold make every earlier event
 * equal too (and the Redis anchor, when events were trimmed, is one of them).
 */
export async function compareArchiveWithRedis(
  archive: PostgresAuditArchive,
  redis: RedisAuditLog,
  raw?: { redis: Redis; keys: RedisKeys; group: string },
): Promise<OverlapResult> {
  const [archiveHead, redisHead, anchor] = await Promise.all([archive.head(), redis.head(), redis.anchor()]);
  const archived = archiveHead?.seq ?? 0;
  // What the archive's consumer group acknowledged was committed: the archive must still hold it.
  const acked = raw ? await acknowledgedSeq(raw.redis, raw.keys, raw.group) : 0;
  if (acked > archived)
    return { ok: false, seq: archived + 1, message: `Redis recorded events through ${acked} as archived, but the archive ends at ${archived}: events were removed from the archive` };
  if (!archiveHead) return { ok: true, message: 'the archive is empty: nothing to compare with Redis yet' };
  if (anchor && anchor.seq > archived)
    return { ok: false, seq: anchor.seq, message: `Redis was trimmed through event ${anchor.seq}, but the archive ends at ${archived}: events ${archived + 1}–${anchor.seq} exist nowhere` };
  const seq = Math.min(archived, redisHead.seq);
  if (seq === 0) return { ok: true, message: 'Redis holds no events yet' };
  let redisHash: string | undefined;
  if (anchor && seq === anchor.seq) redisHash = anchor.hash;
  else if (seq === redisHead.seq) redisHash = redisHead.hash;
  else for await (const e of redis.read({ toSeq: seq })) if (e.seq === seq) redisHash = e.hash;
  const archiveHash = await archive.hashAt(seq);
  if (redisHash === undefined) return { ok: false, seq, message: `Redis has no event ${seq} to compare with the archive` };
  if (archiveHash !== redisHash)
    return { ok: false, seq, message: `the archive's event ${seq} (${archiveHash?.slice(0, 16)}…) differs from Redis's (${redisHash.slice(0, 16)}…): one of them was rewritten` };
  const lag = redisHead.seq - archived;
  const from = anchor ? anchor.seq + 1 : 1;
  return {
    ok: true,
    seq,
    message: `matches Redis at event ${seq} (Redis holds ${from}–${redisHead.seq}${lag > 0 ? `; ${lag} not archived yet` : ''})`,
  };
}

/** The highest sequence number below which the group has acknowledged everything (0: unknown). */
async function acknowledgedSeq(redis: Redis, keys: RedisKeys, group: string): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', keys.auditStream).catch(() => [])) as unknown[][];
  for (const g of groups) {
    const fields: Record<string, unknown> = {};
    for (let i = 0; i + 1 < g.length; i += 2) fields[String(g[i])] = g[i + 1];
    if (fields.name !== group) continue;
    const id = String(fields['last-delivered-id']);
    if (Number(fields.pending) > 0) {
      const summary = (await redis.xpending(keys.auditStream, group)) as [number, string | null];
      if (!summary[1]) return 0;
      const before = (await redis.xrevrange(keys.auditStream, `(${summary[1]}`, '-', 'COUNT', 1)) as [string, string[]][];
      if (!before[0]) return 0;
      return parseStreamEntry(before[0][0], before[0][1]).seq;
    }
    const entry = (await redis.xrange(keys.auditStream, id, id)) as [string, string[]][];
    if (entry[0]) return parseStreamEntry(entry[0][0], entry[0][1]).seq;
    return 0; // trimmed: the anchor check covers it
  }
  return 0;
}
