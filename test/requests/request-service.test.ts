import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import type { AccessRequest, Actor, TimerKind } from '../../src/engine/types';
import { silentLogger } from '../../src/log/logger';
import { EffectRunner } from '../../src/requests/effect-runner';
import { LogNotifier, NoOnCall } from '../../src/requests/null-adapters';
import type { KeyRegistry, RegisteredKey, Scheduler } from '../../src/requests/ports';
import { REQUEST_ID_PATTERN } from '../../src/requests/request-id';
import { RequestService } from '../../src/requests/request-service';
import { StaticDirectory } from '../../src/requests/static-directory';
import { RedisRequestStore } from '../../src/store/redis-request-store';
import { policyFrom } from '../helpers/policy';
import { deleteByPattern, testRedis } from '../helpers/redis';
import { RedisKeys } from '../../src/store/redis-keys';
import { RedisRateLimiter } from '../../src/store/redis-rate-limiter';

const approvers: Actor[] = Array.from({ length: 50 }, (_, i) => ({ id: `UAPPROVER${i}`, groups: ['approvers'] }));
const alice: Actor = { id: 'UALICE', email: 'alice@example.com', emailVerified: true, groups: ['engineers'] };
const policy = policyFrom({
  resources: { db: { description: 'db', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['dba'] } } },
  workflows: { w: { requesters: { everyone: true }, stages: [{ name: 'one', approvers: { slack_groups: ['approvers'] } }] } },
});

const t = testRedis('service');
afterAll(async () => {
  await deleteByPattern(t.redis, `{${t.prefix}-*`);
  await t.cleanup();
});
let instances = 0;

const key: RegisteredKey = { fingerprint: 'SHA256:alice', kind: 'ssh', algorithm: 'ssh-ed25519', text: 'ssh-ed25519 AAAA', addedAt: 0 };
const keys: KeyRegistry = {
  latest: async (user) => (user === 'UALICE' ? key : undefined),
  get: async (user, fp) => ((user === 'UALICE' || user.startsWith('UPERSON')) && fp === key.fingerprint ? key : undefined),
};

/** Records durable effects; BullMQ itself is exercised by the queue tests. */
class RecordingScheduler implements Scheduler {
  issued: string[] = [];
  timers: { id: string; timer: TimerKind; at: number }[] = [];
  async enqueueIssuance(r: AccessRequest) {
    this.issued.push(r.id);
  }
  async schedule(r: AccessRequest, timer: TimerKind, at: number) {
    this.timers.push({ id: r.id, timer, at });
  }
  async revokeCertificate() {}
  closed: string[] = [];
  async closeExtensions(r: AccessRequest) {
    this.closed.push(r.id);
  }
}

/** A service on a key space of its own: each test starts with no open requests. */
function service(limits?: ConstructorParameters<typeof RequestService>[0]['limits']) {
  const scheduler = new RecordingScheduler();
  const redisKeys = new RedisKeys(`${t.prefix}-${++instances}`);
  const audit = new RedisAuditLog(t.redis, redisKeys);
  const svc = new RequestService({
    store: new RedisRequestStore(t.redis, redisKeys),
    audit,
    rateLimiter: new RedisRateLimiter(t.redis, redisKeys),
    ...(limits ? { limits } : {}),
    policy: () => policy,
    directory: new StaticDirectory([alice, ...approvers]),
    oncall: new NoOnCall(),
    keys,
    effects: new EffectRunner(scheduler, new LogNotifier(silentLogger()), audit, silentLogger()),
    logger: silentLogger(),
  });
  return { svc, scheduler, audit };
}

async function eventsOf(audit: RedisAuditLog, requestId: string) {
  const out = [];
  for await (const e of audit.read()) if (e.requestId === requestId) out.push(e);
  return out;
}

describe('RequestService', () => {
  it('submits with a readable id, the newest registered key, and resolved approvers', async () => {
    const { svc } = service();
    const r = await svc.submit('UALICE', { resource: 'db', reason: 'debug', via: 'slack' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.request.id).toMatch(REQUEST_ID_PATTERN);
    expect(r.request.keyFingerprint).toBe('SHA256:alice');
    expect(r.request.approvers).toHaveLength(50);
  });

  it('50 approvers clicking at once give exactly one approval, one request.approved event and one issuance', async () => {
    const { svc, scheduler, audit } = service();
    const submitted = await svc.submit('UALICE', { resource: 'db', reason: 'debug', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(submitted.status);
    const id = submitted.request.id;
    const results = await Promise.all(approvers.map((a) => svc.review(id, a.id, 'approve', 'slack')));
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'refused' && r.code === 'NOT_PENDING')).toHaveLength(49);
    const stored = await svc.get(id);
    expect(stored?.state).toBe('approved');
    expect(stored?.reviews).toHaveLength(1);
    const events = await eventsOf(audit, id);
    expect(events.filter((e) => e.type === 'request.approved')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'review.refused')).toHaveLength(49);
    expect(scheduler.issued.filter((x) => x === id)).toHaveLength(1);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('one approver double-clicking 50 times approves once and is told so, without refusals', async () => {
    const { svc, audit } = service();
    const submitted = await svc.submit('UALICE', { resource: 'db', reason: 'debug', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(submitted.status);
    const id = submitted.request.id;
    const results = await Promise.all(Array.from({ length: 50 }, () => svc.review(id, 'UAPPROVER7', 'approve', 'slack')));
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'noop')).toHaveLength(49);
    const events = await eventsOf(audit, id);
    expect(events.filter((e) => e.type === 'request.approved')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'review.refused')).toHaveLength(0);
  });

  it('50 people submitting at once all persist with their own ids', async () => {
    const { svc } = service();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => svc.submit(`UPERSON${i}`, { resource: 'db', reason: `r${i}`, via: 'slack', keyFingerprint: key.fingerprint })),
    );
    const ids = results.map((r) => (r.status === 'ok' ? r.request.id : `refused: ${r.status === 'refused' ? r.message : r.message}`));
    expect(new Set(ids).size).toBe(50);
    const stored = await Promise.all(ids.map((id) => svc.get(id)));
    expect(stored.map((r) => r?.reason).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`).sort());
  });

  it('one person sending 50 requests for one resource at once gets one request; the rest point at it, and the audit log is not flooded', async () => {
    const { svc, audit } = service({ requests: { limit: 100, windowMs: 60_000 }, refusals: { limit: 5, windowMs: 60_000 } });
    const before = (await audit.head()).seq;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => svc.submit('UALICE', { resource: 'db', reason: `r${i}`, via: 'slack' })));
    const ok = results.filter((r) => r.status === 'ok');
    expect(ok).toHaveLength(1);
    const id = ok[0]!.status === 'ok' ? ok[0]!.request.id : '';
    const refused = results.filter((r) => r.status === 'refused');
    expect(refused).toHaveLength(49);
    for (const r of refused) expect(r).toMatchObject({ code: 'ALREADY_OPEN', message: expect.stringContaining(id) });
    // 1 request.created, 5 refusals written one by one, one event saying the rest are being counted
    const written = [];
    for await (const e of audit.read()) if (e.seq > before) written.push(e.type);
    expect(written.filter((type) => type === 'request.created')).toHaveLength(1);
    expect(written.filter((type) => type === 'request.refused')).toHaveLength(5);
    expect(written.filter((type) => type === 'audit.refusals_suppressed')).toHaveLength(1);
  });

  it('counted refusals are reported as one event once their window has passed', async () => {
    let now = Date.UTC(2026, 10, 30, 12, 0, 0);
    const scheduler = new RecordingScheduler();
    const keys = new RedisKeys(`${t.prefix}-${++instances}`);
    const audit = new RedisAuditLog(t.redis, keys);
    const svc = new RequestService({
      store: new RedisRequestStore(t.redis, keys),
      audit,
      rateLimiter: new RedisRateLimiter(t.redis, keys),
      limits: { requests: { limit: 100, windowMs: 60_000 }, refusals: { limit: 2, windowMs: 60_000 } },
      policy: () => policy,
      directory: new StaticDirectory([alice, ...approvers]),
      oncall: new NoOnCall(),
      keys: { latest: async () => undefined, get: async () => undefined },
      effects: new EffectRunner(scheduler, new LogNotifier(silentLogger()), audit, silentLogger()),
      logger: silentLogger(),
      clock: () => now,
    });
    for (let i = 0; i < 12; i++) await svc.submit('UALICE', { resource: 'nope', reason: 'x', via: 'slack' });
    expect(await svc.flushSuppressedRefusals()).toBe(0); // the window is still running
    now += 61_000;
    expect(await svc.flushSuppressedRefusals()).toBe(1);
    const events = [];
    for await (const e of audit.read()) events.push(e);
    expect(events.filter((e) => e.type === 'request.refused')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'audit.refusals_suppressed').map((e) => e.data.count)).toEqual([undefined, 10]);
  });

  it('a person is limited to so many requests per window, across resources', async () => {
    const { svc } = service({ requests: { limit: 3, windowMs: 60_000 }, refusals: { limit: 100, windowMs: 60_000 } });
    const results = [];
    for (const resource of ['db', 'nope1', 'nope2', 'nope3', 'nope4']) results.push(await svc.submit('UALICE', { resource, reason: 'x', via: 'slack' }));
    expect(results.map((r) => (r.status === 'refused' ? r.code : r.status))).toEqual(['ok', 'UNKNOWN_RESOURCE', 'UNKNOWN_RESOURCE', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(results[3]).toMatchObject({ message: expect.stringMatching(/3 requests in the last 60 s.*Try again in \d+ s/) });
  });

  it('an unknown request id is refused, audited, and changes nothing', async () => {
    const { svc, audit } = service();
    const before = (await audit.head()).seq;
    const r = await svc.review('ar-0000000000', 'UAPPROVER1', 'approve', 'slack');
    expect(r).toMatchObject({ status: 'refused', code: 'REQUEST_NOT_FOUND' });
    const events = await eventsOf(audit, 'ar-0000000000');
    expect(events.map((e) => e.type)).toEqual(['review.refused']);
    expect((await audit.head()).seq).toBe(before + 1);
  });

  it('without a registered key the request is refused with how to add one', async () => {
    const { svc } = service();
    const r = await svc.submit('UNOKEY', { resource: 'db', reason: 'x', via: 'slack' });
    expect(r).toMatchObject({ status: 'refused', code: 'KEY_REQUIRED', message: expect.stringMatching(/\/access key add/) });
  });
});
