import type { Redis } from 'ioredis';
import type { AccessRequest, RequestState } from '../engine/types';
import type { RedisKeys } from '../store/redis-keys';

/** States a request never leaves (but for a break-glass review, which keeps the record; see below). */
export const CLOSED_STATES: readonly RequestState[] = ['expired', 'revoked', 'denied', 'cancelled', 'timed_out', 'failed'];

/** Adapters that keep state per request (`keys.adapterState`): removed with the record. */
const ADAPTERS = ['slack', 'jira', 'pagerduty'];

export interface PurgeResult {
  removed: number;
  byState: Partial<Record<RequestState, number>>;
  /** Closed, old enough, but kept: a break-glass grant whose post-incident review is still open. */
  keptForReview: number;
}

/**
 * Removes closed request records older than the retention, with every index entry that points at
 * them, one record per MULTI guarded by WATCH on the record (a transition racing the removal
 * wins, and the record is looked at again next time). Pending, approved and issued requests are
 * never touched, nor a break-glass grant whose review is still open. The audit log keeps the
 * history of every removed request.
 */
export class RequestPurger {
  constructor(
    /** A connection of its own: WATCH must not share one with other MULTIs. */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async purge(now: number, retentionMs: number, batch = 500): Promise<PurgeResult> {
    const cutoff = now - retentionMs;
    const result: PurgeResult = { removed: 0, byState: {}, keptForReview: 0 };
    for (const state of CLOSED_STATES) {
      // Scores are creation times: a request closed before the cutoff was created before it too.
      let offset = 0;
      for (;;) {
        const ids = await this.redis.zrangebyscore(this.keys.stateIndex(state), '-inf', `(${cutoff}`, 'LIMIT', offset, batch);
        if (ids.length === 0) break;
        let removedHere = 0;
        for (const id of ids) {
          const outcome = await this.removeOne(id, state, cutoff);
          if (outcome === 'removed') {
            removedHere++;
            result.removed++;
            result.byState[state] = (result.byState[state] ?? 0) + 1;
          } else if (outcome === 'review') result.keptForReview++;
        }
        if (ids.length < batch) break;
        offset += ids.length - removedHere;
      }
    }
    return result;
  }

  private async removeOne(id: string, indexedAs: RequestState, cutoff: number): Promise<'removed' | 'kept' | 'review'> {
    const key = this.keys.request(id);
    await this.redis.watch(key);
    const json = await this.redis.hget(key, 'j');
    if (json === null) {
      await this.redis.unwatch();
      // A dangling index entry (the record is gone): drop it.
      await this.redis.zrem(this.keys.stateIndex(indexedAs), id);
      return 'kept';
    }
    const request = JSON.parse(json) as AccessRequest;
    const closedAt = request.closedAt ?? request.updatedAt;
    if (!CLOSED_STATES.includes(request.state) || closedAt >= cutoff) {
      await this.redis.unwatch();
      return 'kept';
    }
    if (request.breakGlass?.reviewRequired && !request.breakGlass.review) {
      await this.redis.unwatch();
      return 'review';
    }
    const people = new Set([...request.approvers, ...request.reviews.map((r) => r.by)]);
    const tx = this.redis
      .multi()
      .del(key)
      .zrem(this.keys.stateIndex(request.state), id)
      .zrem(this.keys.requesterIndex(request.requester.id), id)
      .zrem(this.keys.expiryIndex, id);
    if (indexedAs !== request.state) tx.zrem(this.keys.stateIndex(indexedAs), id);
    for (const person of people) tx.zrem(this.keys.approverIndex(person), id);
    for (const adapter of ADAPTERS) tx.del(this.keys.adapterState(adapter, id));
    const done = await tx.exec();
    return done === null ? 'kept' : 'removed';
  }
}
