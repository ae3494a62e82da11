import type { Redis } from 'ioredis';
import { RedisAuditLog } from '../audit/redis-audit-log';
import type { AccessRequest, AuditInput, RequestState } from '../engine/types';
import { LuaScript } from './lua-script';
import { TRANSITION_SCRIPT } from './lua/transition-script';
import type { RedisKeys } from './redis-keys';

const transitionScript = new LuaScript(TRANSITION_SCRIPT);

export type CommitResult = { ok: true; request: AccessRequest; auditSeq: number } | { ok: false; currentVersion: number };

/**
 * Request records in Redis. Every write is a compare-and-set on `version` together with the
 * indexes and the audit events of the change (one Lua script): two approvers clicking at once, a
 * Slack retry or a webhook redelivery can never both win.
 */
export class RedisRequestStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Writes `next` if the stored version is still `previous.version` (or, with no `previous`, if
   * the request does not exist yet). The stored record gets version + 1.
   */
  async commit(previous: AccessRequest | undefined, next: AccessRequest, audit: AuditInput[], now: number): Promise<CommitResult> {
    const expected = previous?.version ?? 0;
    const record: AccessRequest = { ...next, version: expected + 1 };
    const oldApprovers = new Set(previous?.approvers ?? []);
    const newApprovers = new Set(record.state === 'pending' ? record.approvers : []);
    const leave = [...oldApprovers].filter((u) => !newApprovers.has(u));
    const join = [...newApprovers].filter((u) => !oldApprovers.has(u));
    const active = (record.state === 'approved' || record.state === 'issued') && record.expiresAt !== undefined;

    const keys = [
      this.keys.request(record.id),
      this.keys.auditStream,
      this.keys.auditHead,
      this.keys.stateIndex(previous?.state ?? record.state),
      this.keys.stateIndex(record.state),
      this.keys.requesterIndex(record.requester.id),
      this.keys.expiryIndex,
      ...leave.map((u) => this.keys.approverIndex(u)),
      ...join.map((u) => this.keys.approverIndex(u)),
    ];
    const args = [
      expected,
      record.version,
      record.state,
      JSON.stringify(record),
      record.id,
      record.createdAt,
      active ? String(record.expiresAt) : '',
      leave.length,
      join.length,
      audit.length,
      ...RedisAuditLog.prepare(audit, now),
    ];
    const [ok, value] = (await transitionScript.run(this.redis, keys, args)) as [number, number];
    return ok === 1 ? { ok: true, request: record, auditSeq: value } : { ok: false, currentVersion: value };
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const json = await this.redis.hget(this.keys.request(id), 'j');
    return json === null ? undefined : (JSON.parse(json) as AccessRequest);
  }

  async getMany(ids: string[]): Promise<AccessRequest[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.request(id), 'j');
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, json]) => (err || typeof json !== 'string' ? [] : [JSON.parse(json) as AccessRequest]));
  }

  /** Newest first. */
  async listByState(state: RequestState, limit = 100): Promise<AccessRequest[]> {
    return this.getMany(await this.redis.zrevrange(this.keys.stateIndex(state), 0, limit - 1));
  }

  async countByState(state: RequestState): Promise<number> {
    return this.redis.zcard(this.keys.stateIndex(state));
  }

  /** Newest first. */
  async listByRequester(userId: string, limit = 50): Promise<AccessRequest[]> {
    return this.getMany(await this.redis.zrevrange(this.keys.requesterIndex(userId), 0, limit - 1));
  }

  /** Pending requests whose current stage this user was resolved as an approver of. */
  async listPendingForApprover(userId: string, limit = 100): Promise<AccessRequest[]> {
    const requests = await this.getMany(await this.redis.zrevrange(this.keys.approverIndex(userId), 0, limit - 1));
    return requests.filter((r) => r.state === 'pending' && r.approvers.includes(userId));
  }

  /** Approved or issued grants whose window ends at or before `until`. */
  async listActiveEndingBy(until: number, limit = 500): Promise<AccessRequest[]> {
    return this.getMany(await this.redis.zrangebyscore(this.keys.expiryIndex, '-inf', until, 'LIMIT', 0, limit));
  }
}
