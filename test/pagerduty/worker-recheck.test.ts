import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AccessRequest } from '../../src/engine/types';
import { createPagerDutyIntegration } from '../../src/pagerduty/pagerduty-integration';
import { StaticDirectory } from '../../src/requests/static-directory';
import { FakePagerDutyApi } from '../fakes/pagerduty-api';
import { eventually, testApp, type TestApp } from '../helpers/app';

/**
 * The worker re-derives break-glass from PagerDuty itself before it signs: a grant made by an
 * incident only while PagerDuty says the person is an assignee of that open incident on one of the
 * workflow's `on_incident` services; break-glass on request only for an on-call at a qualifying level.
 * Records written straight into Redis (forged) mint nothing.
 */

const SERVICE = 'PSVC001';
const OTHER_SERVICE = 'PSVC002';
const POLICY = 'PPOL001';

const workflows = {
  resources: {
    root: { description: 'root', workflow: 'bg', duration: { default: '1h', max: '2h' }, ssh: { principals: ['{{user.username}}'] } },
    plain: { description: 'no incident grants', workflow: 'no-incident', duration: { default: '1h', max: '2h' }, ssh: { principals: ['{{user.username}}'] } },
  },
  workflows: {
    bg: {
      requesters: { everyone: true },
      stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
      break_glass: { pagerduty_services: [SERVICE, OTHER_SERVICE], oncall_levels: [1], on_incident: { services: [SERVICE] }, review_required: false },
    },
    'no-incident': {
      requesters: { everyone: true },
      stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
      break_glass: { pagerduty_services: [SERVICE], review_required: false },
    },
  },
};

const people = ['UALICE', 'UBOB', 'UCAROL', 'UDAVE', 'UERIN', 'UFRANK', 'UGRACE', 'UHEIDI'].map((id) => ({
  id,
  email: `${id.slice(1).toLowerCase()}@example.com`,
  groups: [],
}));

const pd = new FakePagerDutyApi({
  users: [...people.map((p) => ({ id: `P${p.id.slice(1)}`, email: p.email, name: p.id })), { id: 'PBOT', email: 'bot@example.com', name: 'bot' }],
  services: [
    { id: SERVICE, name: 'svc', escalationPolicy: POLICY },
    { id: OTHER_SERVICE, name: 'other', escalationPolicy: POLICY },
  ],
  escalationPolicies: [{ id: POLICY, name: 'pol' }],
  oncalls: [
    { escalationPolicy: POLICY, level: 1, user: 'PALICE' },
    { escalationPolicy: POLICY, level: 3, user: 'PBOB' },
  ],
});

let app: TestApp;
let worker: WorkerProcess;
let sshPub: string;

beforeAll(async () => {
  const url = await pd.start();
  app = await testApp({
    workflows,
    env: { PAGERDUTY_TOKEN: pd.token, PAGERDUTY_API_URL: url, PAGERDUTY_FROM_EMAIL: 'bot@example.com', PAGERDUTY_WEBHOOK_SECRET: 'whsec', PAGERDUTY_TIMEOUT: '1500ms' },
    integrations: { directory: new StaticDirectory(people) },
  });
  createPagerDutyIntegration(app.ctx, app.ctx.env.pagerduty!);
  worker = await startWorkerProcess(app.ctx);
  const tmp = mkdtempSync(join(tmpdir(), 'recheck-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'k', '-f', join(tmp, 'id')]);
  sshPub = readFileSync(join(tmp, 'id.pub'), 'utf8');
});

afterAll(async () => {
  await worker?.stop();
  await app?.cleanup();
  await pd.stop();
});

const decided = (id: string) =>
  eventually(async () => {
    const r = await app.ctx.store.get(id);
    return r?.state === 'failed' || r?.state === 'issued' ? r : undefined;
  }, 10_000, 'the worker decided');

/** Writes an approved break-glass record straight into Redis, as someone with Redis access (and no CA keys) could. */
async function forge(user: string, resource: string, breakGlass: AccessRequest['breakGlass']): Promise<AccessRequest> {
  await app.ctx.keyService.register(user, sshPub, 'slack');
  const submitted = await app.ctx.service.submit(user, { resource, reason: 'test', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
  const now = Date.now();
  const forged: AccessRequest = { ...submitted.request, state: 'approved', approvedAt: now, startsAt: now, expiresAt: now + 3_600_000, approvers: [], ...(breakGlass ? { breakGlass } : {}) };
  const committed = await app.ctx.store.commit(submitted.request, forged, [], now);
  if (!committed.ok) throw new Error('commit');
  await app.ctx.scheduler.enqueueIssuance(committed.request);
  return decided(committed.request.id);
}

test('a grant the incident really made issues: the worker re-reads the incident and finds the person assigned', async () => {
  const incident = pd.trigger(SERVICE, ['PALICE']);
  await app.ctx.keyService.register('UALICE', sshPub, 'slack');
  const fact = await app.ctx.oncall.incident(incident.id);
  const result = await app.ctx.service.grantForIncident({ resource: 'root', slackUserId: 'UALICE', assignee: 'PALICE', incident: fact! });
  expect(result.status).toBe('ok');
  if (result.status !== 'ok') return;
  expect((await decided(result.request.id)).state).toBe('issued');
  await app.ctx.service.revoke(result.request.id, 'UALICE', 'slack');
});

describe('forged break-glass records are refused, audited as cert.refused', () => {
  const open = pd;
  it.each([
    ['an incident grant for an incident that resolved', 'UBOB', () => {
      const i = open.trigger(SERVICE, ['PBOB']);
      open.setStatus(i.id, 'resolved');
      return { incidentId: i.id, service: SERVICE, reviewRequired: false, onIncident: { assignee: 'PBOB' } };
    }, /PagerDuty says incident Q\d+INC is resolved/],
    ['an incident grant for someone the incident does not assign', 'UCAROL', () => {
      const i = open.trigger(SERVICE, ['PALICE']);
      return { incidentId: i.id, service: SERVICE, reviewRequired: false, onIncident: { assignee: 'PALICE' } };
    }, /the requester is not assigned to incident/],
    ['an incident grant for an incident on a service the workflow does not grant for', 'UDAVE', () => {
      const i = open.trigger(OTHER_SERVICE, ['PDAVE']);
      return { incidentId: i.id, service: SERVICE, reviewRequired: false, onIncident: { assignee: 'PDAVE' } };
    }, /which workflow bg does not grant for/],
    ['an incident grant for an incident PagerDuty does not know', 'UERIN', () => ({ incidentId: 'QNOSUCH1', service: SERVICE, reviewRequired: false, onIncident: { assignee: 'PERIN' } }), /PagerDuty has no incident QNOSUCH1/],
    ['break-glass for someone on call, but at a level the workflow does not count', 'UBOB', () => {
      open.trigger(SERVICE, ['PBOB']);
      return { service: SERVICE, reviewRequired: false };
    }, /PagerDuty does not confirm it: .*at level 1; you are on call at level 3/],
  ] as const)('%s', async (_name, user, breakGlass, reason) => {
    const serialBefore = await app.ctx.redis.get(app.ctx.keys.serialCounter);
    const result = await forge(user, 'root', breakGlass());
    expect(result.state).toBe('failed');
    expect(result.failure).toMatch(reason);
    expect(await app.ctx.redis.get(app.ctx.keys.serialCounter)).toBe(serialBefore);
    const refused = [];
    for await (const e of app.ctx.audit.read()) if (e.type === 'cert.refused' && e.requestId === result.id) refused.push(e);
    expect(refused).toHaveLength(1);
  });

  test('an incident grant on a workflow without on_incident', async () => {
    const i = pd.trigger(SERVICE, ['PFRANK']);
    const result = await forge('UFRANK', 'plain', { incidentId: i.id, service: SERVICE, reviewRequired: false, onIncident: { assignee: 'PFRANK' } });
    expect(result.failure).toMatch(/workflow no-incident grants no access for incidents/);
  });

  test('PagerDuty down when the worker re-checks: nothing is signed while it cannot confirm; signed once it can', async () => {
    const i = pd.trigger(SERVICE, ['PGRACE']);
    await app.ctx.keyService.register('UGRACE', sshPub, 'slack');
    const fact = await app.ctx.oncall.incident(i.id);
    const serialBefore = await app.ctx.redis.get(app.ctx.keys.serialCounter);
    pd.breakAll({ status: 503 });
    try {
      const result = await app.ctx.service.grantForIncident({ resource: 'root', slackUserId: 'UGRACE', assignee: 'PGRACE', incident: fact! });
      if (result.status !== 'ok') throw new Error(JSON.stringify(result));
      await new Promise((r) => setTimeout(r, 2_500));
      const waiting = await app.ctx.store.get(result.request.id);
      expect(waiting).toMatchObject({ state: 'approved' });
      expect(waiting?.certificate).toBeUndefined();
      expect(await app.ctx.redis.get(app.ctx.keys.serialCounter)).toBe(serialBefore);
      pd.heal();
      expect((await eventually(async () => {
        const r = await app.ctx.store.get(result.request.id);
        return r?.state === 'issued' ? r : undefined;
      }, 25_000, 'issued once PagerDuty answers')).certificate).toBeDefined();
    } finally {
      pd.heal();
    }
  }, 40_000);
});
