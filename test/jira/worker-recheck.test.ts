import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AccessRequest, Review } from '../../src/engine/types';
import { StaticDirectory } from '../../src/requests/static-directory';
import { eventually, testApp, type TestApp } from '../helpers/app';

/**
 * The worker's own re-check before it signs accepts approvals given in Jira, and only those the
 * workflow allows: a Slack approver who moved the issue, or a Jira account listed in
 * `jira_account_ids`. A record edited in Redis to claim a Jira approval by anyone else mints nothing.
 */

const LISTED = '5b10ac8d82e05b22cc7d4ef5';
const workflows = {
  resources: {
    kube: { description: 'kube', workflow: 'jira', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'] } },
  },
  workflows: {
    jira: {
      requesters: { everyone: true },
      stages: [{ name: 'leads', approvers: { users: ['ULEAD'], jira_account_ids: [LISTED] } }],
      approval: { jira: { project: 'PLAT' } },
    },
  },
};
const people = ['UALICE', 'ULEAD', 'UOTHER'].map((id) => ({ id, email: `${id.slice(1).toLowerCase()}@example.com`, groups: [] }));

let app: TestApp;
let worker: WorkerProcess;
let sshPub: string;
let keyDir: string;

beforeAll(async () => {
  app = await testApp({ workflows, integrations: { directory: new StaticDirectory(people) } });
  worker = await startWorkerProcess(app.ctx);
  keyDir = mkdtempSync(join(tmpdir(), 'recheck-jira-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'k', '-f', join(keyDir, 'id')]);
  sshPub = readFileSync(join(keyDir, 'id.pub'), 'utf8');
  await app.ctx.keyService.register('UALICE', sshPub, 'slack');
});

afterAll(async () => {
  await worker?.stop();
  await app?.cleanup();
  rmSync(keyDir, { recursive: true, force: true });
});

const decided = (id: string) =>
  eventually(async () => {
    const r = await app.ctx.store.get(id);
    return r?.state === 'failed' || r?.state === 'issued' ? r : undefined;
  }, 10_000, 'the worker decided');

async function pending(): Promise<AccessRequest> {
  for (const r of await app.ctx.store.listByRequester('UALICE', 50)) {
    if (r.state === 'pending') await app.ctx.service.cancel(r.id, 'UALICE', 'slack');
    if (r.state === 'approved' || r.state === 'issued') await app.ctx.service.revoke(r.id, 'UALICE', 'slack');
  }
  const submitted = await app.ctx.service.submit('UALICE', { resource: 'kube', reason: 'test', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
  return submitted.request;
}

/** Writes an approved record with this review straight into Redis, as someone with Redis access could. */
async function forge(review: Omit<Review, 'stage' | 'at' | 'decision'>): Promise<AccessRequest> {
  const request = await pending();
  const now = Date.now();
  const forged: AccessRequest = {
    ...request,
    state: 'approved',
    approvedAt: now,
    startsAt: now,
    expiresAt: now + 3_600_000,
    approvers: [],
    reviews: [{ stage: 0, at: now, decision: 'approve', ...review }],
  };
  const committed = await app.ctx.store.commit(request, forged, [], now);
  if (!committed.ok) throw new Error('commit');
  await app.ctx.scheduler.enqueueIssuance(committed.request);
  return decided(committed.request.id);
}

test('an approval given in Jira through the request service issues: a Slack approver matched by email, and a listed Jira account', async () => {
  const byLead = await pending();
  expect((await app.ctx.service.reviewInJira(byLead.id, { accountId: '557058:lead', slackUserId: 'ULEAD' }, 'approve')).status).toBe('ok');
  expect((await decided(byLead.id)).state).toBe('issued');

  const byListed = await pending();
  expect((await app.ctx.service.reviewInJira(byListed.id, { accountId: LISTED, name: 'Hidden' }, 'approve')).status).toBe('ok');
  const issued = await decided(byListed.id);
  expect(issued.state).toBe('issued');
  expect(issued.reviews[0]).toMatchObject({ by: `jira:${LISTED}`, via: 'jira', jiraAccountId: LISTED });
});

test('a Jira account that is not listed is refused by the service, and a forged record claiming it mints nothing', async () => {
  const request = await pending();
  const refused = await app.ctx.service.reviewInJira(request.id, { accountId: 'unlisted-account-1' }, 'approve');
  expect(refused).toMatchObject({ status: 'refused', code: 'NOT_APPROVER' });

  const forged = await forge({ by: 'jira:unlisted-account-1', via: 'jira', jiraAccountId: 'unlisted-account-1' });
  expect(forged.state).toBe('failed');
  expect(forged.failure).toMatch(/jira:unlisted-account-1 is not an approver/);
});

test('a forged record pinning a listed accountId on another Jira actor, or on a Slack user who is no approver, mints nothing', async () => {
  const otherActor = await forge({ by: 'jira:someone-else-1', via: 'jira', jiraAccountId: LISTED });
  expect(otherActor.state).toBe('failed');
  const slackUser = await forge({ by: 'UOTHER', via: 'slack', jiraAccountId: LISTED });
  expect(slackUser.state).toBe('failed');
});
