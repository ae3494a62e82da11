import type { Redis } from 'ioredis';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { Channel } from '../engine/types';
import type { RedisKeys } from '../store/redis-keys';

/**
 * A change an access reviewer asked for ("Remove"): the person out of the requester mapping that
 * lets them request the resource. access-bot never edits the workflow files; an admin does, then
 * closes the change (`access-bot report pending-changes --close ID --note …`).
 */
export interface PendingChange {
  id: string;
  state: 'open' | 'closed';
  user: string;
  userEmail?: string;
  resource: string;
  workflow?: string;
  /** What to change in the workflow files, in words an admin acts on. */
  instruction: string;
  review: string;
  campaign: string;
  period: string;
  requestedBy: string;
  at: number;
  closedBy?: string;
  closedAt?: number;
  note?: string;
}

export class PendingChangeStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly audit: RedisAuditLog,
    private readonly clock: () => number = Date.now,
  ) {}

  /** False when a change with this id exists already. */
  async add(change: PendingChange): Promise<boolean> {
    return (await this.redis.hsetnx(this.keys.pendingChanges, change.id, JSON.stringify(change))) === 1;
  }

  async get(id: string): Promise<PendingChange | undefined> {
    const json = await this.redis.hget(this.keys.pendingChanges, id);
    return json === null ? undefined : (JSON.parse(json) as PendingChange);
  }

  /** Open first, then newest first. */
  async list(): Promise<PendingChange[]> {
    const all = Object.values(await this.redis.hgetall(this.keys.pendingChanges)).map((j) => JSON.parse(j) as PendingChange);
    return all.sort((a, b) => (a.state === b.state ? b.at - a.at : a.state === 'open' ? -1 : 1));
  }

  async close(id: string, actor: string, note: string, via: Channel = 'cli'): Promise<{ ok: true; change: PendingChange } | { ok: false; message: string }> {
    const change = await this.get(id);
    if (!change) return { ok: false, message: `There is no pending change ${id}.` };
    if (change.state === 'closed') return { ok: false, message: `${id} was closed by ${change.closedBy} already.` };
    const now = this.clock();
    const closed: PendingChange = { ...change, state: 'closed', closedBy: actor, closedAt: now, note: note.slice(0, 1000) };
    await this.redis.hset(this.keys.pendingChanges, id, JSON.stringify(closed));
    await this.audit.append(
      [{ type: AUDIT_EVENT_TYPES.accessReviewChangeClosed, actor: { id: actor, via }, data: { change: id, user: change.user, resource: change.resource, campaign: change.campaign, note: closed.note } }],
      now,
    );
    return { ok: true, change: closed };
  }
}
