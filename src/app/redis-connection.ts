import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for access-bot. `forBlocking` connections (BullMQ workers, stream readers)
 * must not give up on a command while Redis is briefly away: BullMQ requires
 * `maxRetriesPerRequest: null` for them.
 */
export function createRedis(url: string, options: { forBlocking?: boolean; name?: string } = {}): Redis {
  const opts: RedisOptions = {
    maxRetriesPerRequest: options.forBlocking ? null : 5,
    enableReadyCheck: true,
    ...(options.name ? { connectionName: options.name } : {}),
  };
  return new Redis(url, opts);
}
