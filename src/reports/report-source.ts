import { existsSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { verifyChain } from '../audit/audit-chain';
import type { AuditEvent } from '../audit/audit-event';
import { verifyExportFile } from '../audit/export-file-verifier';
import { readAuditExport, readAuditJsonl } from '../audit/jsonl-file-reader';
import { compareArchiveWithRedis } from '../audit/postgres/archive-overlap';
import { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { createRedis } from '../app/redis-connection';
import type { Env } from '../config/env';
import { RedisKeys } from '../store/redis-keys';
import { ReportSourceError } from './errors/report-source-error';

/** The chain verification that heads every report. */
export interface ChainCheck {
  ok: boolean;
  /** Where the events came from, as the auditor should read it. */
  source: string;
  count: number;
  head?: { seq: number; hash: string };
  /** The Redis anchor the walk started from, when retention trimmed older (archived) events. */
  from?: { seq: number; hash: string };
  firstBad?: { seq: number; problem: string };
  /** The archive against Redis (postgres source). */
  redis?: string;
  /** What the verification could not prove (an export file without a trailer, a filtered export). */
  notProven?: string[];
}

export interface ReportSource {
  label: string;
  read(): AsyncIterable<AuditEvent>;
  verify(): Promise<ChainCheck>;
  close(): Promise<void>;
}

/** `redis`, `postgres`, or a JSON-lines file from `audit export` or a sink. */
export function openReportSource(spec: string, env: Env): ReportSource {
  if (spec === 'redis') return redisSource(env);
  if (spec === 'postgres') {
    if (!env.AUDIT_DATABASE_URL) throw new ReportSourceError('--source postgres needs AUDIT_DATABASE_URL.');
    return postgresSource(env, env.AUDIT_DATABASE_URL);
  }
  if (!existsSync(spec)) throw new ReportSourceError(`--source "${spec}" is not redis, postgres or a readable file.`);
  return {
    label: `file ${spec}`,
    read: () => readAuditJsonl(spec),
    verify: async () => {
      // An export's header and trailer say its scope and where it ended: verified as `audit verify --file` does.
      const r = await verifyExportFile(readAuditExport(spec));
      const notProven = r.notProven.length ? { notProven: r.notProven } : {};
      return r.ok
        ? { ok: true, source: `file ${spec}`, count: r.count, ...(r.head ? { head: r.head } : {}), ...notProven }
        : { ok: false, source: `file ${spec}`, count: r.count, ...(r.firstBad ? { firstBad: r.firstBad } : {}), ...notProven };
    },
    close: async () => undefined,
  };
}

function redisSource(env: Env, redis: Redis = createRedis(env.REDIS_URL, { name: 'access-bot-report', ...(env.redisTls ? { tls: env.redisTls } : {}) })): ReportSource {
  const log = new RedisAuditLog(redis, new RedisKeys(env.REDIS_PREFIX));
  let toSeq: number | undefined;
  return {
    label: 'Redis',
    read: () => log.read(toSeq !== undefined ? { toSeq } : {}),
    verify: async () => {
      const from = await log.anchor();
      const head = await log.head();
      toSeq = head.seq;
      const r = await verifyChain(log.read({ toSeq }), head, from);
      const base = { source: 'Redis', count: r.count, ...(from ? { from } : {}) };
      return r.ok ? { ok: true, ...base, head: r.head } : { ok: false, ...base, firstBad: r.firstBad };
    },
    close: async () => void (await redis.quit()),
  };
}

function postgresSource(env: Env, url: string): ReportSource {
  const archive = new PostgresAuditArchive(url, { max: 2 });
  const redis = createRedis(env.REDIS_URL, { name: 'access-bot-report', ...(env.redisTls ? { tls: env.redisTls } : {}) });
  const keys = new RedisKeys(env.REDIS_PREFIX);
  return {
    label: 'PostgreSQL archive',
    read: () => archive.read(),
    verify: async () => {
      const r = await verifyChain(archive.read());
      if (!r.ok) return { ok: false, source: 'PostgreSQL archive', count: r.count, firstBad: r.firstBad };
      const overlap = await compareArchiveWithRedis(archive, new RedisAuditLog(redis, keys), { redis, keys, group: 'sink-postgres' }).catch(
        (err: Error) => ({ ok: true as const, message: `not compared with Redis: ${err.message}` }),
      );
      return overlap.ok
        ? { ok: true, source: 'PostgreSQL archive', count: r.count, head: r.head, redis: overlap.message }
        : { ok: false, source: 'PostgreSQL archive', count: r.count, head: r.head, firstBad: { seq: overlap.seq, problem: overlap.message }, redis: overlap.message };
    },
    close: async () => {
      await archive.close();
      await redis.quit();
    },
  };
}
