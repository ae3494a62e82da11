import type { Redis } from 'ioredis';
import type { RedisKeys } from '../store/redis-keys';

const TTL_MS = 90 * 86_400_000;
const KEY = 'key';
const ID = 'id';
const CREATING = 'creating';
const DONE = 'done:';
const HISTORY = 'history:';

/**
 * What the Jira channel remembers per request, in one Redis hash shared by every replica
 * (`keys.adapterState('jira', id)`): the issue, when a create was sent without an answer, which
 * follow-up steps (comments, moves) are done, and which changelog entries were acted on.
 */
export class JiraIssueState {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  private key(requestId: string): string {
    return this.keys.adapterState('jira', requestId);
  }

  async issue(requestId: string): Promise<{ key: string; id: string } | undefined> {
    const [key, id] = await this.redis.hmget(this.key(requestId), KEY, ID);
    return key && id ? { key, id } : undefined;
  }

  async setIssue(requestId: string, issue: { key: string; id: string }): Promise<void> {
    await this.redis.multi().hset(this.key(requestId), KEY, issue.key, ID, issue.id).hdel(this.key(requestId), CREATING).pexpire(this.key(requestId), TTL_MS).exec();
  }

  /** When the last create without an answer was sent (epoch ms), if one was. */
  async createSentAt(requestId: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.key(requestId), CREATING);
    return value === null ? undefined : Number(value);
  }

  async markCreateSent(requestId: string, at: number): Promise<void> {
    await this.redis.multi().hset(this.key(requestId), CREATING, String(at)).pexpire(this.key(requestId), TTL_MS).exec();
  }

  async isDone(requestId: string, step: string): Promise<boolean> {
    return (await this.redis.hexists(this.key(requestId), `${DONE}${step}`)) === 1;
  }

  async markDone(requestId: string, step: string, at: number): Promise<void> {
    await this.redis.multi().hset(this.key(requestId), `${DONE}${step}`, String(at)).pexpire(this.key(requestId), TTL_MS).exec();
  }

  /** True for exactly one caller per changelog entry, across replicas. */
  async claimHistory(requestId: string, historyId: string): Promise<boolean> {
    const results = await this.redis.multi().hsetnx(this.key(requestId), `${HISTORY}${historyId}`, '1').pexpire(this.key(requestId), TTL_MS).exec();
    return Number(results?.[0]?.[1]) === 1;
  }

  /** Gives a claimed entry back when acting on it failed, so the next webhook or poll tries again. */
  async releaseHistory(requestId: string, historyId: string): Promise<void> {
    await this.redis.hdel(this.key(requestId), `${HISTORY}${historyId}`);
  }

  /** A lease on bringing one request's issue in line, so two replicas do not post the same comment. */
  async lock(requestId: string, owner: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.adapterLock('jira', requestId), owner, 'PX', ms, 'NX')) === 'OK';
  }

  async unlock(requestId: string, owner: string): Promise<void> {
    const key = this.keys.adapterLock('jira', requestId);
    if ((await this.redis.get(key)) === owner) await this.redis.del(key);
  }
}
