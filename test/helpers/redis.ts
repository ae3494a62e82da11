import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisKeys } from '../../src/store/redis-keys';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis connection and a key prefix of this test's own; `cleanup` deletes every key under it. */
export function testRedis(label = 'test'): { redis: Redis; prefix: string; keys: RedisKeys; cleanup: () => Promise<void> } {
  const prefix = `t-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: false });
  const keys = new RedisKeys(prefix);
  return {
    redis,
    prefix,
    keys,
    cleanup: async () => {
      await deleteByPattern(redis, `{${prefix}}*`);
      await deleteByPattern(redis, `${prefix}*`);
      redis.disconnect();
    },
  };
}

export async function deleteByPattern(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}
