import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chainHashV2 } from '../../src/audit/audit-chain';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { sha256Midstate } from '../../src/audit/sha256-midstate';
import { readLuaSource } from '../../src/store/lua-script';

const SHA256_FINISH_LUA = readLuaSource(path.join(__dirname, '../../src/audit/lua/sha256-finish.lua'));
import { decide } from '../../src/engine/request-machine';
import type { AccessRequest, Actor, AuditInput, Effect } from '../../src/engine/types';
import { RedisRequestStore } from '../../src/store/redis-request-store';
import { samplePolicy } from '../helpers/policy';
import { testRedis } from '../helpers/redis';

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const policy = samplePolicy();
const alice: Actor = { id: 'UALICE', email: 'alice@example.com', emailVerified: true, groups: ['engineers'] };
const lead: Actor = { id: 'ULEAD1', groups: ['db-leads'] };

const t = testRedis('store');
const store = new RedisRequestStore(t.redis, t.keys);
const audit = new RedisAuditLog(t.redis, t.keys);
afterAll(() => t.cleanup());

const auditsOf = (effects: Effect[]): AuditInput[] => effects.flatMap((e) => (e.type === 'audit' ? [e.event] : []));

/** A pending prod-db request; each id has its own requester (one open request per person and resource). */
async function createPending(id: string, approvers = ['ULEAD1', 'ULEAD2'], requester = requesterFor(id)): Promise<AccessRequest> {
  const r = await store.commit(undefined, pendingRequest(id, approvers, requester), auditsOf(submitEffects(id, approvers, requester)), T0);
  if (!r.ok) throw new Error('create failed');
  return r.request;
}

function requesterFor(id: string): Actor {
  return { ...alice, id: `UALICE-${id}` };
}

function submitDecision(id: string, approvers: string[], requester: Actor) {
  const d = decide(
    undefined,
    {
      type: 'submit',
      id,
      resource: 'prod-db',
      reason: 'INC-1 fix',
      ticket: 'OPS-1',
      keyFingerprint: 'SHA256:k',
      requester: { id: requester.id, email: requester.email!, emailVerified: true },
      via: 'slack',
    },
    { now: T0, policy, actor: requester, approversByStage: [approvers, ['USEC1']] },
  );
  if (d.kind !== 'transition') throw new Error(d.kind);
  return d;
}

function pendingRequest(id: string, approvers: string[], requester: Actor): AccessRequest {
  return submitDecision(id, approvers, requester).request;
}

function submitEffects(id: string, approvers: string[], requester: Actor): Effect[] {
  return submitDecision(id, approvers, requester).effects;
}

describe('the chain link, started in Node and finished in Redis', () => {
  it('equals Node crypto\'s SHA-256(digest ‖ prev ‖ seq) for random digests and prevs, and seqs up to 2^53', async () => {
    const script = `${SHA256_FINISH_LUA}\nlocal out = {}\nfor i = 1, #ARGV, 3 do out[#out + 1] = sha256_finish_hex(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])) end\nreturn out`;
    const seqs = [1, 2, 255, 256, 65_535, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12_345, Number.MAX_SAFE_INTEGER];
    const cases = Array.from({ length: 60 }, (_, i) => ({ digest: randomBytes(64), prev: randomBytes(32).toString('hex'), seq: seqs[i % seqs.length]! }));
    cases.push({ digest: Buffer.alloc(64, 0xff), prev: 'f'.repeat(64), seq: 7 }, { digest: Buffer.alloc(64), prev: '0'.repeat(64), seq: 1 });
    const got = (await t.redis.eval(script, 0, ...cases.flatMap((c) => [sha256Midstate(c.digest), c.prev, String(c.seq)]))) as string[];
    expect(got).toEqual(cases.map((c) => chainHashV2(c.prev, c.digest, c.seq)));
  });
});

describe('RedisRequestStore', () => {
  it('creates a request once; a second create of the same id is a conflict', async () => {
    const req = await createPending('r-create');
    expect(req.version).toBe(1);
    expect(await store.get('r-create')).toEqual(req);
    const again = await store.commit(undefined, { ...req, version: 0 }, [], T0);
    expect(again).toEqual({ ok: false, currentVersion: 1 });
  });

  it('keeps the indexes: by requester, by state, pending by approver', async () => {
    const req = await createPending('r-index', ['ULEADX', 'ULEADY']);
    expect((await store.listByRequester(requesterFor('r-index').id)).map((r) => r.id)).toContain('r-index');
    expect((await store.listByState('pending')).map((r) => r.id)).toContain('r-index');
    expect((await store.listPendingForApprover('ULEADX')).map((r) => r.id)).toEqual(['r-index']);

    const d = decide(req, { type: 'review', decision: 'approve', via: 'slack' }, {
      now: T0 + 1000,
      policy,
      actor: { id: 'ULEADX', groups: ['db-leads'] },
      approversByStage: [['ULEADX', 'ULEADY'], ['USECZ']],
    });
    if (d.kind !== 'transition') throw new Error(d.kind);
    const advanced = await store.commit(req, d.request, auditsOf(d.effects), T0 + 1000);
    expect(advanced.ok).toBe(true);
    expect(await store.listPendingForApprover('ULEADX')).toEqual([]);
    expect((await store.listPendingForApprover('USECZ')).map((r) => r.id)).toEqual(['r-index']);

    const current = await store.get('r-index');
    const denied = decide(current, { type: 'review', decision: 'deny', via: 'slack' }, {
      now: T0 + 2000,
      policy,
      actor: { id: 'USECZ', groups: [] },
      approversByStage: [[], ['USECZ']],
    });
    if (denied.kind !== 'transition') throw new Error(denied.kind);
    expect((await store.commit(current, denied.request, auditsOf(denied.effects), T0 + 2000)).ok).toBe(true);
    expect(await store.listPendingForApprover('USECZ')).toEqual([]);
    expect((await store.listByState('pending')).map((r) => r.id)).not.toContain('r-index');
    expect((await store.listByState('denied')).map((r) => r.id)).toContain('r-index');
  });

  it('of 50 concurrent commits from the same version exactly one wins, with exactly one audit event', async () => {
    const req = await createPending('r-race', ['ULEAD1']);
    const before = (await audit.head()).seq;
    const attempts = Array.from({ length: 50 }, (_, i) => {
      const d = decide(req, { type: 'review', decision: 'deny', via: 'slack', comment: `no ${i}` }, {
        now: T0 + i,
        policy,
        actor: lead,
        approversByStage: [['ULEAD1'], []],
      });
      if (d.kind !== 'transition') throw new Error(d.kind);
      return store.commit(req, d.request, auditsOf(d.effects), T0 + i);
    });
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && 'currentVersion' in r && r.currentVersion === 2)).toBe(true);
    const after = await audit.head();
    expect(after.seq - before).toBe(1);
    const stored = await store.get('r-race');
    expect(stored?.version).toBe(2);
    expect(stored?.state).toBe('denied');
    const events = [];
    for await (const e of audit.read()) if (e.requestId === 'r-race' && e.type === 'request.denied') events.push(e);
    expect(events).toHaveLength(1);
    expect(events[0]?.data.comment).toBe(stored?.closeReason);
  });

  it('50 concurrent different requests all persist, and the audit chain stays unbroken', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `r-many-${i}`);
    await Promise.all(ids.map((id) => createPending(id)));
    const stored = await store.getMany(ids);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    const result = await audit.verify();
    expect(result.ok).toBe(true);
  });

  it('lists active grants by expiry for the reconciler', async () => {
    const req = await createPending('r-expiry', ['ULEAD1']);
    const s1 = decide(req, { type: 'review', decision: 'approve', via: 'slack' }, { now: T0, policy, actor: lead, approversByStage: [['ULEAD1'], ['USEC1']] });
    if (s1.kind !== 'transition') throw new Error(s1.kind);
    const c1 = await store.commit(req, s1.request, auditsOf(s1.effects), T0);
    if (!c1.ok) throw new Error('commit');
    const s2 = decide(c1.request, { type: 'review', decision: 'approve', via: 'slack' }, { now: T0, policy, actor: { id: 'USEC1', groups: [] } });
    if (s2.kind !== 'transition') throw new Error(s2.kind);
    const c2 = await store.commit(c1.request, s2.request, auditsOf(s2.effects), T0);
    if (!c2.ok) throw new Error('commit');
    expect((await store.listActiveEndingBy(c2.request.expiresAt! - 1)).map((r) => r.id)).not.toContain('r-expiry');
    expect((await store.listActiveEndingBy(c2.request.expiresAt!)).map((r) => r.id)).toContain('r-expiry');
  });

  it('holds one open request per person and resource: a second one is refused naming the first, across concurrent commits', async () => {
    const bob = { ...alice, id: 'UBOB-SLOT' };
    const first = await createPending('r-slot-1', ['ULEAD1'], bob);
    const second = await store.commit(undefined, pendingRequest('r-slot-2', ['ULEAD1'], bob), [], T0);
    expect(second).toEqual({ ok: false, slotHeldBy: 'r-slot-1' });
    expect(await store.get('r-slot-2')).toBeUndefined();
    expect((await store.slotHolder(t.keys.resourceSlot(bob.id, 'prod-db')))?.id).toBe(first.id);

    // Another person, or another resource, is not affected.
    expect((await createPending('r-slot-other', ['ULEAD1'], { ...alice, id: 'UCAROL-SLOT' })).id).toBe('r-slot-other');

    // Once the first is closed, the slot is free again.
    const denied = decide(first, { type: 'review', decision: 'deny', via: 'slack' }, { now: T0 + 1, policy, actor: lead, approversByStage: [['ULEAD1'], []] });
    if (denied.kind !== 'transition') throw new Error(denied.kind);
    expect((await store.commit(first, denied.request, auditsOf(denied.effects), T0 + 1)).ok).toBe(true);
    expect(await store.slotHolder(t.keys.resourceSlot(bob.id, 'prod-db'))).toBeUndefined();
    expect((await createPending('r-slot-3', ['ULEAD1'], bob)).id).toBe('r-slot-3');

    // 20 submissions at once by one person for one resource: exactly one persists.
    const dave = { ...alice, id: 'UDAVE-SLOT' };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.commit(undefined, pendingRequest(`r-burst-${i}`, ['ULEAD1'], dave), [], T0)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && 'slotHeldBy' in r)).toHaveLength(19);
  });

  it('a slot whose holder is gone (retention, a crash, a hand edit) frees itself', async () => {
    const erin = { ...alice, id: 'UERIN-SLOT' };
    await createPending('r-gone', ['ULEAD1'], erin);
    await t.redis.del(t.keys.request('r-gone'));
    expect((await createPending('r-after-gone', ['ULEAD1'], erin)).id).toBe('r-after-gone');
  });
});
