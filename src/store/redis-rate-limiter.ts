import path from 'node:path';
import type { Redis } from 'ioredis';
import type { RateLimiter, RateLimitResult } from '../requests/ports';
import { LuaScript } from './lua-script';
import type { RedisKeys } from './redis-keys';

const take = LuaScript.fromFile(path.join(__dirname, 'lua', 'rate-limit-take.lua'));
const flush = LuaScript.fromFile(path.join(__dirname, 'lua', 'rate-limit-flush.lua'));

/**
 * Fixed-window counters in Redis, shared by every replica: a person's requests per window, and
 * refusals written to the audit log per window. Refusals beyond the limit are counted here and
 * reported later as one event, so a burst of junk cannot flood the audit log.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async take(bucket: string, subject: string, limit: number, windowMs: number, now: number): Promise<RateLimitResult> {
    const window = Math.floor(now / windowMs);
    const key = this.keys.rateLimit(bucket, subject, window);
    const [count, ttl] = (await take.run(this.redis, [key], [windowMs * 2])) as [number, number];
    return { allowed: count <= limit, count, retryAfterMs: count <= limit ? 0 : Math.max(0, (window + 1) * windowMs - now), windowTtlMs: ttl };
  }

  async countSuppressed(subject: string, now: number): Promise<number> {
    const [count] = await Promise.all([
      this.redis.hincrby(this.keys.suppressedCount, subject, 1),
      this.redis.hsetnx(this.keys.suppressedSince, subject, String(now)),
    ]);
    return count;
  }

  async takeSuppressed(subject: string): Promise<{ count: number; since: number } | undefined> {
    const [count, since] = (await flush.run(this.redis, [this.keys.suppressedCount, this.keys.suppressedSince], [subject])) as [number, number];
    return count > 0 ? { count, since } : undefined;
  }

  async suppressedSubjects(): Promise<{ subject: string; since: number }[]> {
    const all = await this.redis.hgetall(this.keys.suppressedSince);
    return Object.entries(all).map(([subject, since]) => ({ subject, since: Number(since) }));
  }
}
