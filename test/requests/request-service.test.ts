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
import { testRedis } from '../helpers/redis';

const approvers: Actor[] = Array.from({ length: 50 }, (_, i) => ({ id: `UAPPROVER${i}`, groups: ['approvers'] }));
const alice: Actor = { id: 'UALICE', email: 'alice@example.com', groups: ['engineers'] };
const policy = policyFrom({
  resources: { db: { description: 'db', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['dba'] } } },
  workflows: { w: { requesters: { everyone: true }, stages: [{ name: 'one', approvers: { slack_groups: ['approvers'] } }] } },
});

const t = testRedis('service');
afterAll(() => t.cleanup());

const key: RegisteredKey = { fingerprint: 'SHA256:alice', kind: 'ssh', algorithm: 'ssh-ed25519', text: 'ssh-ed25519 AAAA', addedAt: 0 };
const keys: KeyRegistry = {
  latest: async (user) => (user === 'UALICE' ? key : undefined),
  get: async (user, fp) => (user === 'UALICE' && fp === key.fingerprint ? key : undefined),
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
}

function service() {
  const scheduler = new RecordingScheduler();
  const audit = new RedisAuditLog(t.redis, t.keys);
  const svc = new RequestService({
    store: new RedisRequestStore(t.redis, t.keys),
    audit,
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

  it('50 different requests submitted at once all persist with their own ids', async () => {
    const { svc } = service();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => svc.submit('UALICE', { resource: 'db', reason: `r${i}`, via: 'slack' })));
    const ids = results.map((r) => (r.status === 'ok' ? r.request.id : 'x'));
    expect(new Set(ids).size).toBe(50);
    const stored = await Promise.all(ids.map((id) => svc.get(id)));
    expect(stored.map((r) => r?.reason).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`).sort());
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
