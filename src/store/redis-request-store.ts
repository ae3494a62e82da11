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
      ...RedisAuditLog.prepare(audit, now),
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
