import { verifyChain, type VerifyResult } from '../audit/audit-chain';
import type { AuditEvent } from '../audit/audit-event';
import { compareArchiveWithRedis, type OverlapResult } from '../audit/postgres/archive-overlap';
import { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { createRedis } from '../app/redis-connection';
import { loadEnv } from '../config/env';
import { RedisKeys } from '../store/redis-keys';
import type { CliIo } from './cli-io';
import { UsageError } from './usage-error';

/** `audit verify --source postgres`: the archived chain from event 1, then its head against Redis. */
export async function verifyArchive(
  io: CliIo,
  wrap: (events: AsyncIterable<AuditEvent>) => AsyncIterable<AuditEvent>,
): Promise<{ result: VerifyResult; overlap?: OverlapResult }> {
  const env = loadEnv(io.env);
  if (!env.AUDIT_DATABASE_URL) throw new UsageError('--source postgres needs AUDIT_DATABASE_URL.');
  const archive = new PostgresAuditArchive(env.AUDIT_DATABASE_URL, { max: 2 });
  const redis = createRedis(env.REDIS_URL, { name: 'access-bot-cli', ...(env.redisTls ? { tls: env.redisTls } : {}) });
  try {
    const result = await verifyChain(wrap(archive.read()));
    if (!result.ok) return { result };
    const keys = new RedisKeys(env.REDIS_PREFIX);
    const overlap = await compareArchiveWithRedis(archive, new RedisAuditLog(redis, keys), { redis, keys, group: 'sink-postgres' });
    return { result, overlap };
  } finally {
    await archive.close();
    await redis.quit();
  }
}
