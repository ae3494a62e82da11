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
  const sentinel = sentinelOptions(url);
  return sentinel ? new Redis({ ...sentinel, ...opts }) : new Redis(url, opts);
}

/**
 * `redis-sentinel://[user:password@]host:port[,host:port…]/<master name>[/<db>][?sentinelPassword=…]`:
 * ioredis reaches a Sentinel-managed primary through its own Sentinel options, not a URL, so this
 * scheme is turned into them. The user and password are the primary's; the Sentinels' own, if
 * any, go in `sentinelPassword` (and `sentinelUsername`). Undefined for any other URL.
 */
export function sentinelOptions(url: string): RedisOptions | undefined {
  const m = /^redis-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/i.exec(url);
  if (!m) {
    if (/^redis-sentinel:/i.test(url)) throw new Error('REDIS_URL: a Sentinel URL looks like redis-sentinel://host:26379,host2:26379/mymaster');
    return undefined;
  }
  const [, user, password, hosts, name, db, query] = m;
  const params = new URLSearchParams(query ?? '');
  const sentinels = hosts!.split(',').map((hostPort) => {
    const at = hostPort.lastIndexOf(':');
    return at > 0 ? { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)) } : { host: hostPort, port: 26379 };
  });
  const decode = (v: string | undefined | null) => (v ? decodeURIComponent(v) : undefined);
  const opt = (key: string, v: string | undefined) => (v !== undefined ? { [key]: v } : {});
  return {
    sentinels,
    name: decodeURIComponent(name!),
    ...(db !== undefined ? { db: Number(db) } : {}),
    ...opt('username', decode(user)),
    ...opt('password', decode(password)),
    ...opt('sentinelUsername', decode(params.get('sentinelUsername'))),
    ...opt('sentinelPassword', decode(params.get('sentinelPassword'))),
  };
}
