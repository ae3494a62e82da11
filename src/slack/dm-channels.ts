import type { Redis } from 'ioredis';
import type { RedisKeys } from '../store/redis-keys';

/**
 * The DM channel of each person, opened once: conversations.open answers the same channel id for
 * a user every time, so it is asked once and the id kept in Redis (one hash, shared by every bot
 * and worker replica) and in this process. A DM that Slack says no longer exists is forgotten and
 * opened again by the caller.
 */
export class DmChannels {
  private readonly local = new Map<string, string>();
  /** Opens in flight: a burst of DMs to one new person opens their DM once. */
  private readonly opening = new Map<string, Promise<string>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** The user's DM channel: from memory, Redis, or else `open` (then remembered). */
  async channelOf(userId: string, open: (userId: string) => Promise<string>): Promise<{ channel: string; cached: boolean }> {
    const known = this.local.get(userId) ?? (await this.redis.hget(this.keys.slackDmChannels, userId)) ?? undefined;
    if (known) {
      this.local.set(userId, known);
      return { channel: known, cached: true };
    }
    let pending = this.opening.get(userId);
    if (!pending) {
      pending = (async () => {
        const channel = await open(userId);
        this.local.set(userId, channel);
        await this.redis.hset(this.keys.slackDmChannels, userId, channel);
        return channel;
      })().finally(() => this.opening.delete(userId));
      this.opening.set(userId, pending);
    }
    return { channel: await pending, cached: false };
  }

  async forget(userId: string): Promise<void> {
    this.local.delete(userId);
    await this.redis.hdel(this.keys.slackDmChannels, userId);
  }
}
