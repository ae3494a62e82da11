import path from 'node:path';
import type { Redis } from 'ioredis';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { isOpenState } from '../engine/request-states';
import type { AccessRequest, AuditInput, RequestState } from '../engine/types';
import type { CommitOutcome, RequestStore } from '../requests/ports';
import { LuaScript } from './lua-script';
import type { RedisKeys } from './redis-keys';

const transitionScript = LuaScript.fromFile(path.join(__dirname, 'lua', 'transition.lua'));

export type CommitResult = CommitOutcome;

/**
 * Request records in Redis. Every write is a compare-and-set on `version` together with the
 * indexes and the audit events of the change (one Lua script): two approvers clicking at once, a
 * Slack retry or a webhook redelivery can never both win.
 */
export class RedisRequestStore implements RequestStore {
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

    const slots = this.slotChanges(previous, record);

    const keys = [
      this.keys.request(record.id),
      this.keys.auditStream,
      this.keys.auditHead,
      this.keys.stateIndex(previous?.state ?? record.state),
      this.keys.stateIndex(record.state),
      this.keys.requesterIndex(record.requester.id),
      this.keys.expiryIndex,
      ...slots.claim,
      ...slots.release,
      ...slots.take,
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
      slots.claim.length,
      slots.release.length,
      slots.take.length,
      this.keys.requestPrefix,
      ...RedisAuditLog.prepare(audit, now, this.keys),
    ];
    const [ok, value, holder] = (await transitionScript.run(this.redis, keys, args)) as [number, number, string | undefined];
    if (ok === 1) return { ok: true, request: record, auditSeq: value };
    if (value === -2 && holder !== undefined) return { ok: false, slotHeldBy: holder };
    return { ok: false, currentVersion: value };
  }

  /**
   * Which slots a transition claims, releases or takes over. A request made through the workflow
   * holds its person's slot for the resource while open; break-glass has a slot of its own (an
   * emergency is never blocked by one's own pending request); an extension holds its grant's
   * extension slot, and once approved takes over the resource slot, since it is now the access.
   * Admin issuance from the CLI holds none.
   */
  private slotChanges(previous: AccessRequest | undefined, record: AccessRequest): { claim: string[]; release: string[]; take: string[] } {
    const none = { claim: [], release: [], take: [] };
    if (record.adminIssued) return none;
    const user = record.requester.id;
    const resourceSlot = this.keys.resourceSlot(user, record.resource);
    const own = record.breakGlass
      ? [this.keys.breakGlassSlot(user, record.resource)]
      : record.extension
        ? [this.keys.extensionSlot(record.extension.of)]
        : [resourceSlot];
    const open = isOpenState(record.state);
    const wasOpen = previous !== undefined && isOpenState(previous.state);
    if (!open) return wasOpen || previous === undefined ? { claim: [], release: record.extension ? [...own, resourceSlot] : own, take: [] } : none;
    const granted = record.state !== 'pending';
    const take = record.extension && granted && (previous === undefined || previous.state === 'pending') ? [resourceSlot] : [];
    return { claim: previous === undefined ? own : [], release: [], take };
  }

  openRequestFor(userId: string, resource: string, breakGlass: boolean): Promise<AccessRequest | undefined> {
    return this.slotHolder(breakGlass ? this.keys.breakGlassSlot(userId, resource) : this.keys.resourceSlot(userId, resource));
  }

  openExtensionOf(parentId: string): Promise<AccessRequest | undefined> {
    return this.slotHolder(this.keys.extensionSlot(parentId));
  }

  /** The open request holding a slot, if any. */
  async slotHolder(slotKey: string): Promise<AccessRequest | undefined> {
    const id = await this.redis.get(slotKey);
    if (id === null) return undefined;
    const holder = await this.get(id);
    return holder && isOpenState(holder.state) ? holder : undefined;
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

  /** Newest first; `offset` skips that many (paging). */
  async listByRequester(userId: string, limit = 50, offset = 0): Promise<AccessRequest[]> {
    return this.getMany(await this.redis.zrevrange(this.keys.requesterIndex(userId), offset, offset + limit - 1));
  }

  /** How many requests the person has made (that are still stored). */
  async countByRequester(userId: string): Promise<number> {
    return this.redis.zcard(this.keys.requesterIndex(userId));
  }

  /** Pending requests whose current stage this user was resolved as an approver of, newest first; `offset` for paging. */
  async listPendingForApprover(userId: string, limit = 100, offset = 0): Promise<AccessRequest[]> {
    const requests = await this.getMany(await this.redis.zrevrange(this.keys.approverIndex(userId), offset, offset + limit - 1));
    return requests.filter((r) => r.state === 'pending' && r.approvers.includes(userId));
  }

  /**
   * Every request in a state, oldest first, a batch at a time: what the reconciler walks, however
   * many there are. See walkIndex for why requests leaving the state meanwhile cost no skipped one.
   */
  async *walkByState(state: RequestState, batch = 500): AsyncGenerator<AccessRequest[]> {
    for await (const ids of this.walkIndex(this.keys.stateIndex(state), '+inf', batch)) yield this.getMany(ids);
  }

  /** Every request a person made, oldest first, a batch at a time. */
  async *walkByRequester(userId: string, batch = 500): AsyncGenerator<AccessRequest[]> {
    for await (const ids of this.walkIndex(this.keys.requesterIndex(userId), '+inf', batch)) yield this.getMany(ids);
  }

  /** Pending requests that had this person among the approvers of their stage, oldest first, a batch at a time. */
  async *walkPendingForApprover(userId: string, batch = 500): AsyncGenerator<AccessRequest[]> {
    for await (const ids of this.walkIndex(this.keys.approverIndex(userId), '+inf', batch))
      yield (await this.getMany(ids)).filter((r) => r.state === 'pending');
  }

  /** Approved or issued grants whose window ends at or before `until`, soonest first, a batch at a time. */
  async *walkActiveEndingBy(until: number, batch = 500): AsyncGenerator<AccessRequest[]> {
    for await (const ids of this.walkIndex(this.keys.expiryIndex, String(until), batch)) yield this.getMany(ids);
  }

  /**
   * Members of a sorted set in score order, `batch` at a time, up to `max`. The cursor is the last
   * (score, member) seen, not a rank: the walk's own work removes members (a pending request timing
   * out leaves the pending index), which would shift ranks and skip the members behind them. Members
   * of equal score come in member order, so the ones at the cursor's score already seen are dropped;
   * a run of equal scores longer than a batch is paged through with an offset.
   */
  private async *walkIndex(key: string, max: string, batch: number): AsyncGenerator<string[]> {
    let cursor: { score: number; member: string } | undefined;
    let skip = 0;
    for (;;) {
      const min = cursor ? String(cursor.score) : '-inf';
      const flat = await this.redis.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', skip, batch);
      if (flat.length === 0) return;
      const rows: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ member: flat[i]!, score: Number(flat[i + 1]) });
      const fresh = cursor ? rows.filter((r) => r.score > cursor!.score || r.member > cursor!.member) : rows;
      if (fresh.length === 0) {
        skip += rows.length;
      } else {
        yield fresh.map((r) => r.member);
        const last = fresh[fresh.length - 1]!;
        cursor = { score: last.score, member: last.member };
        skip = 0;
      }
      if (rows.length < batch) return;
    }
  }

  /**
   * How many requests wait for this user's decision: the approver index holds exactly the pending
   * requests of the stage they were resolved for (transitions leave and join it atomically).
   */
  async countPendingForApprover(userId: string): Promise<number> {
    return this.redis.zcard(this.keys.approverIndex(userId));
  }

  /** Approved or issued grants whose window ends at or before `until`. */
  async listActiveEndingBy(until: number, limit = 500): Promise<AccessRequest[]> {
    return this.getMany(await this.redis.zrangebyscore(this.keys.expiryIndex, '-inf', until, 'LIMIT', 0, limit));
  }
}
