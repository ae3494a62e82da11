import type { Redis } from 'ioredis';
import type { KeyRegistry, RegisteredKey } from '../requests/ports';
import type { RedisKeys } from './redis-keys';

/** Registered public keys per user: a Redis hash of fingerprint → key record. */
export class RedisKeyRegistry implements KeyRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async list(userId: string): Promise<RegisteredKey[]> {
    const all = await this.redis.hvals(this.keys.userKeys(userId));
    return all.map((j) => JSON.parse(j) as RegisteredKey).sort((a, b) => b.addedAt - a.addedAt);
  }

  async latest(userId: string, kind: 'ssh' | 'x509'): Promise<RegisteredKey | undefined> {
    return (await this.list(userId)).find((k) => k.kind === kind);
  }

  async get(userId: string, fingerprint: string): Promise<RegisteredKey | undefined> {
    const json = await this.redis.hget(this.keys.userKeys(userId), fingerprint);
    return json === null ? undefined : (JSON.parse(json) as RegisteredKey);
  }

  async count(userId: string): Promise<number> {
    return this.redis.hlen(this.keys.userKeys(userId));
  }

  async put(userId: string, key: RegisteredKey): Promise<void> {
    await this.redis.hset(this.keys.userKeys(userId), key.fingerprint, JSON.stringify(key));
  }

  /** Whether a key was there to remove. */
  async remove(userId: string, fingerprint: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.userKeys(userId), fingerprint)) === 1;
  }
}
