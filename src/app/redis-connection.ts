import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTlsSettings } from '../config/env';

/**
 * A Redis connection for access-bot. `forBlocking` connections (BullMQ workers, stream readers)
 * must not give up on a command while Redis is briefly away: BullMQ requires
 * `maxRetriesPerRequest: null` for them.
 */
export function createRedis(
  url: string,
  options: { forBlocking?: boolean; name?: string; tls?: RedisTlsSettings; extra?: RedisOptions } = {},
): Redis {
  const opts: RedisOptions = {
    maxRetriesPerRequest: options.forBlocking ? null : 5,
    enableReadyCheck: true,
    ...(options.name ? { connectionName: options.name } : {}),
    // rediss:// turns TLS on in ioredis; these add a private CA and a client certificate.
    ...(options.tls && /^rediss:\/\//i.test(url) ? { tls: { ...options.tls } } : {}),
    ...options.extra,
  };
  return new Redis(url, opts);
}
