import { generateKeyPairSync } from 'node:crypto';
import { sshPublicKeyFromKeyObject } from '../../src/ca/ssh/ssh-public-key';
import { Reconciler } from '../../src/queue/reconciler';
import type { AccessRequest } from '../../src/engine/types';
import { silentLogger } from '../../src/log/logger';
import { StaticDirectory } from '../../src/requests/static-directory';
import { testApp, type TestApp } from '../helpers/app';

/**
 * The reconciler is the backstop for work a crash lost. It used to read only the newest 5,000
 * pending and approved requests, so after a large incident the oldest ones were never repaired.
 * Here it walks in batches of 10 through more than one batch of old requests, while its own
 * repairs remove requests from the index it walks, and through runs of equal created-at times.
 */

const workflows = {
  resources: { box: { description: 'test box', workflow: 'one-stage', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'] } } },
  workflows: { 'one-stage': { requesters: { everyone: true }, pending_ttl: '1h', stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }] } },
};

let app: TestApp;
let template: AccessRequest;
const HOUR = 3_600_000;

beforeAll(async () => {
  app = await testApp({ workflows, integrations: { directory: new StaticDirectory([{ id: 'UTEMPLATE', email: 'template@example.com', groups: [] }]) } });
  const { publicKey } = generateKeyPairSync('ed25519');
  await app.ctx.keyService.register('UTEMPLATE', sshPublicKeyFromKeyObject(publicKey, 'template@laptop'), 'slack');
  const submitted = await app.ctx.service.submit('UTEMPLATE', { resource: 'box', reason: 'template', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
  template = submitted.request;
});
afterAll(() => app.cleanup());

/** A request written as a crash would leave it: committed, with its follow-up work lost. */
async function lost(id: string, user: string, fields: Partial<AccessRequest>): Promise<void> {
  const record: AccessRequest = { ...template, id, requester: { ...template.requester, id: user }, version: 0, ...fields };
  const committed = await app.ctx.store.commit(undefined, record, [], Date.now());
  if (!committed.ok) throw new Error(`commit ${id}`);
}

it('enqueues every old approved request and times out every expired pending one, batch after batch', async () => {
  const now = Date.now();
  const approvedIds: string[] = [];
  const pendingIds: string[] = [];
  for (let i = 0; i < 25; i++) {
    // Twelve of them share one created-at time: more than a batch of equal scores.
    const createdAt = i < 12 ? now - 3 * HOUR : now - 3 * HOUR + i * 1000;
    const approvedAt = createdAt + 60_000;
    approvedIds.push(`ar-old-approved-${String(i).padStart(2, '0')}`);
    await lost(approvedIds[i]!, `UAPPROVED${i}`, { state: 'approved', createdAt, stageStartedAt: createdAt, approvedAt, startsAt: now - 60_000, expiresAt: now + HOUR, approvers: [] });
    pendingIds.push(`ar-old-pending-${String(i).padStart(2, '0')}`);
    await lost(pendingIds[i]!, `UPENDING${i}`, { state: 'pending', createdAt, stageStartedAt: createdAt });
  }
  // Newer pending requests the walk must leave alone (and pass over).
  for (let i = 0; i < 5; i++) await lost(`ar-fresh-${i}`, `UFRESH${i}`, { state: 'pending', createdAt: now - 1000, stageStartedAt: now - 1000 });

  const reconciler = new Reconciler(app.ctx.store, app.ctx.service, app.ctx.scheduler, () => app.ctx.policy, silentLogger(), Date.now, { batch: 10, metrics: app.ctx.metrics });
  const report = await reconciler.run();
  expect(report).toMatchObject({ issuanceEnqueued: 25, timedOut: 25 });

  for (const id of approvedIds) expect(await app.ctx.certificatesQueue.getJob(`issue-${id}`)).toBeDefined();
  const states = await app.ctx.store.getMany(pendingIds);
  expect(states.map((r) => r.state)).toEqual(pendingIds.map(() => 'timed_out'));
  expect((await app.ctx.store.getMany(['ar-fresh-0', 'ar-fresh-4'])).map((r) => r.state)).toEqual(['pending', 'pending']);

  const scraped = await app.ctx.metrics.text();
  expect(scraped).toMatch(/^access_bot_reconciler_findings_total\{kind="issuanceEnqueued"\} 25$/m);
  expect(scraped).toMatch(/^access_bot_reconciler_findings_total\{kind="timedOut"\} 25$/m);
  expect(scraped).toMatch(/^access_bot_requests\{state="timed_out"\} 25$/m);

  // A second pass finds nothing new to time out (issuance is re-enqueued: no worker runs here).
  expect((await reconciler.run()).timedOut).toBe(0);
}, 60_000);
