import { AUDIT_EVENT_TYPES as A } from '../../src/engine/audit-event-types';
import { accessRequestProject, type FakeJiraUser } from '../fakes/jira-api';
import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { hasButton, messageText } from '../slack/e2e-harness';
import { JiraE2e, x509PublicKey } from './jira-e2e';

/**
 * The Jira approval channel end to end: a real access-bot (Slack fake, worker, Redis) with the real
 * jira.js client against the Jira fake. One issue per request; moving it decides like a click.
 */

const CHANNEL = 'C0APPROVALS';
const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Liddell', groups: ['S0ENG'] } satisfies FakeSlackUser;
const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Lead', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const DAVE = { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', realName: 'Dave Lead', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const MALLORY = { id: 'U0MALLORY', name: 'mallory', email: 'mallory@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;

const J = {
  alice: { accountId: '557058:alice-0001', displayName: 'Alice Liddell', email: ALICE.email },
  bob: { accountId: '557058:bob-0002', displayName: 'Bob Lead', email: BOB.email },
  dave: { accountId: '557058:dave-0003', displayName: 'Dave Lead', email: DAVE.email },
  mallory: { accountId: '557058:mallory-04', displayName: 'Mallory', email: MALLORY.email },
  hidden: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Hidden Approver', email: 'hidden@contractor.example', emailVisible: false },
  bot: { accountId: '557058:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' },
} satisfies Record<string, FakeJiraUser>;

const JIRA = { project: 'PLAT', issue_type: 'Access Request', approved_status: 'Approved', denied_status: 'Declined', expired_status: 'Done' };
const WORKFLOWS = {
  resources: {
    kube: {
      description: 'Production Kubernetes',
      workflow: 'jira-only',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['developers'], usage: 'kubernetes', kubernetes: { cluster: 'prod', server: 'https://k8s.example.com:6443' } },
    },
    'kube-esc': {
      description: 'Kubernetes, escalating',
      workflow: 'escalating',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['oncall'] },
    },
    'kube-two': {
      description: 'Production Kubernetes, two leads',
      workflow: 'mixed-two',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['admins'] },
    },
  },
  workflows: {
    'jira-only': {
      requesters: { everyone: true },
      ticket: { required: false },
      stages: [{ name: 'leads', approvers: { slack_groups: ['leads'], jira_account_ids: [J.hidden.accountId] } }],
      approval: { jira: JIRA },
    },
    escalating: {
      requesters: { everyone: true },
      stages: [
        { name: 'first line', approvers: { users: [BOB.id] }, reminder: '1s', timeout: '3s' },
        { name: 'second line', approvers: { users: [DAVE.id] } },
      ],
      approval: { jira: JIRA },
    },
    'mixed-two': {
      requesters: { everyone: true },
      stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] }, approvals: 2 }],
      approval: { slack_channel: CHANNEL, jira: JIRA },
    },
  },
};

let t: JiraE2e;

beforeAll(async () => {
  t = await JiraE2e.start({
    workflows: WORKFLOWS,
    users: [ALICE, BOB, DAVE, MALLORY],
    usergroups: [
      { id: 'S0ENG', handle: 'engineers' },
      { id: 'S0LEADS', handle: 'leads' },
    ],
    jira: { users: [J.alice, J.bob, J.dave, J.mallory, J.hidden], apiUser: J.bot, projects: [accessRequestProject('PLAT')], indexLagMs: 300 },
  });
  await t.ctx.keyService.register(ALICE.id, x509PublicKey(), 'slack');
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

afterEach(async () => {
  await t.e2e.closeOpenRequestsOf([ALICE.id]);
});

async function request(resource: string, reason: string, ticket?: string) {
  const result = await t.ctx.service.submit(ALICE.id, { resource, reason, via: 'slack', ...(ticket ? { ticket } : {}) });
  if (result.status !== 'ok') throw new Error(`submit: ${result.status} ${'message' in result ? result.message : ''}`);
  return result.request;
}

async function refusedReviewsOf(requestId: string) {
  return t.e2e.audit((e) => e.type === A.reviewRefused && e.requestId === requestId);
}

describe('one issue per request', () => {
  test('the issue carries the facts as ADF, the labels and the request property; its key is on the request, audited and linked in Slack', async () => {
    const r = await request('kube', 'Roll out the ingress fix', 'PLAT-2417');
    const issue = await t.issueOf(r.id);
    expect(issue.project).toBe('PLAT');
    expect(issue.issueType).toBe('Access Request');
    expect(issue.summary).toBe(`${r.requester.name ?? ''} requests kube for 1h`);
    expect(issue.labels).toEqual(['access-bot', `access-bot-${r.id}`]);
    expect(issue.properties.accessBotRequest).toEqual(expect.objectContaining({ requestId: r.id, resource: 'kube' }));
    const description = JSON.stringify(issue.description);
    for (const fact of ['alice@example.com', 'Production Kubernetes', 'Roll out the ingress fix', 'leads', r.id, 'developers'])
      expect(description).toContain(fact);
    // The ticket is a Jira key: linked.
    expect(description).toContain(`"href":"${t.jira.url}/browse/PLAT-2417"`);

    const stored = await eventually(async () => (await t.e2e.request(r.id)).jiraIssue, 10_000, 'the issue key on the request');
    expect(stored).toEqual({ key: issue.key, url: `${t.jira.url}/browse/${issue.key}` });
    const created = await t.e2e.audit((e) => e.type === A.jiraIssueCreated && e.requestId === r.id);
    expect(created).toHaveLength(1);
    expect(created[0]!.data).toEqual(expect.objectContaining({ key: issue.key }));
    // A Jira-only workflow with Jira on: no Slack DMs to approvers; the requester's DMs link the issue.
    expect(t.e2e.fake.messages.filter((m) => hasButton(m, 'access.approve', r.id))).toHaveLength(0);
    const waiting = await eventually(() => t.e2e.messagesWith('is waiting for approval').find((m) => messageText(m).includes(r.id)), 10_000, 'the pending DM');
    expect(messageText(waiting)).toContain(`<${t.jira.url}/browse/${issue.key}|${issue.key}>`);
    // Every call to Jira is counted by method, ids replaced.
    expect(await t.ctx.metrics.text()).toMatch(/access_bot_external_calls_total\{service="jira",method="POST \/rest\/api\/3\/issue",outcome="ok"\} \d/);
    await t.ctx.service.cancel(r.id, ALICE.id, 'slack', 'done testing');
    await eventually(() => t.e2e.messagesWith(r.id).find((m) => messageText(m).includes(`${issue.key}>`) && messageText(m).includes('cancel')), 10_000, 'a DM linking the issue');
    await t.commentMatching(issue.key, /Request cancelled by alice <alice@example.com> at .*: done testing/);
    await t.waitForStatus(issue.key, 'Done');
  });

  test('a create whose answer is lost after Jira made the issue leaves one issue, found by its label once search shows it', async () => {
    t.jira.delayNext(3_000, /^\/rest\/api\/3\/issue$/, 'POST');
    const r = await request('kube', 'Lost answer');
    const issue = await t.issueOf(r.id);
    const stored = await eventually(async () => (await t.e2e.request(r.id)).jiraIssue, 15_000, 'the issue key on the request');
    expect(stored.key).toBe(issue.key);
    expect(t.jira.issuesLabelled(`access-bot-${r.id}`)).toHaveLength(1);
    expect(t.jira.calls(/^\/rest\/api\/3\/issue$/, 'POST').length).toBe(1);
    const created = await t.e2e.audit((e) => e.type === A.jiraIssueCreated && e.requestId === r.id);
    expect(created.map((e) => e.data.foundAfterLostAnswer)).toEqual([true]);
  }, 30_000);
});

describe('decisions by moving the issue', () => {
  test('moving the issue to Approved approves, and the certificate is DMed; the issue follows with comments', async () => {
    const r = await request('kube', 'Approve me in Jira');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    expect((await t.deliver(issue.key)).status).toBe(202);
    const issued = await t.e2e.waitForState(r.id, 'issued', 15_000);
    expect(issued.reviews).toEqual([expect.objectContaining({ by: BOB.id, via: 'jira', decision: 'approve', jiraAccountId: J.bob.accountId })]);
    await eventually(() => t.e2e.messagesWith('BEGIN CERTIFICATE').find((m) => messageText(m).includes(r.id)), 10_000, 'the certificate DM');
    await t.commentMatching(issue.key, /Approved by bob <bob@example.com> in Jira \(stage 1: leads\), 1 of 1 approval\./);
    await t.commentMatching(issue.key, new RegExp(`Certificate issued \\(X\\.509\\): serial ${issued.certificate!.serial}`));
    expect(t.jira.issue(issue.key)!.status).toBe('Approved');
  });

  test('a revocation in Slack is commented on the issue, which moves to the expired status', async () => {
    const r = await request('kube', 'Revoke me later');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    await t.deliver(issue.key);
    await t.e2e.waitForState(r.id, 'issued', 15_000);
    expect((await t.ctx.service.revoke(r.id, ALICE.id, 'slack', 'done early')).status).toBe('ok');
    await t.commentMatching(issue.key, /Access revoked by alice <alice@example.com> at .*: done early/);
    await t.waitForStatus(issue.key, 'Done');
  });

  test('a stage reminder and a stage that times out are commented, and the next stage decides by moving the same issue', async () => {
    const r = await request('kube-esc', 'Escalate me');
    const issue = await t.issueOf(r.id);
    await t.commentMatching(issue.key, /Reminder: this request is still waiting for stage 1 \(first line\): 0 of 1 approvals so far, from U0BOB\./, 15_000);
    await t.commentMatching(issue.key, /Stage 1 \(first line\) timed out without its approvals; stage 2 \(second line, U0DAVE\) decides now\./, 15_000);
    t.jira.move(issue.key, 'Approved', J.dave.accountId);
    await t.deliver(issue.key);
    const done = await t.e2e.waitForState(r.id, 'issued', 15_000);
    expect(done.reviews).toEqual([expect.objectContaining({ by: DAVE.id, stage: 1, via: 'jira' })]);
  });

  test('moving it to Declined denies, with the newest comment of the person as the reason', async () => {
    const r = await request('kube', 'Deny me in Jira');
    const issue = await t.issueOf(r.id);
    t.jira.comment(issue.key, J.dave.accountId, 'An older thought');
    t.jira.comment(issue.key, J.dave.accountId, 'Not during the freeze, sorry');
    t.jira.move(issue.key, 'Declined', J.dave.accountId);
    await t.deliver(issue.key);
    const denied = await t.e2e.waitForState(r.id, 'denied');
    expect(denied.closeReason).toBe('Not during the freeze, sorry');
    expect(denied.reviews[0]).toEqual(expect.objectContaining({ by: DAVE.id, via: 'jira', decision: 'deny' }));
    await eventually(() => t.e2e.messagesWith('Not during the freeze').find((m) => m.channel.startsWith('D')), 10_000, 'the denial DM with the reason');
  });

  test('a listed accountId whose email Jira hides approves as that Jira account', async () => {
    const r = await request('kube', 'Hidden approver');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.hidden.accountId);
    await t.deliver(issue.key);
    const approved = await t.e2e.waitForState(r.id, 'issued', 15_000);
    expect(approved.reviews[0]).toEqual(expect.objectContaining({ by: `jira:${J.hidden.accountId}`, via: 'jira', jiraAccountId: J.hidden.accountId }));
  });

  test('a move by a stranger is refused, audited, explained and undone; the request stays pending', async () => {
    const r = await request('kube', 'Stranger moves it');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.mallory.accountId);
    await t.deliver(issue.key);
    await t.commentMatching(issue.key, /did not accept this move by Mallory: You are not an approver for stage "leads"/);
    await t.waitForStatus(issue.key, 'To Do');
    expect((await t.e2e.request(r.id)).state).toBe('pending');
    const refused = await refusedReviewsOf(r.id);
    expect(refused).toEqual([expect.objectContaining({ actor: { id: MALLORY.id, via: 'jira' }, data: expect.objectContaining({ code: 'NOT_APPROVER' }) })]);
  });

  test('a move by the requester is refused as self-approval', async () => {
    const r = await request('kube', 'Approving my own');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.alice.accountId);
    await t.deliver(issue.key);
    await t.commentMatching(issue.key, /You cannot decide your own request/);
    await t.waitForStatus(issue.key, 'To Do');
    expect((await t.e2e.request(r.id)).state).toBe('pending');
    expect(await refusedReviewsOf(r.id)).toEqual([expect.objectContaining({ data: expect.objectContaining({ code: 'SELF_APPROVAL' }) })]);
  });

  test('a move after the request was decided is refused and moved back', async () => {
    const r = await request('kube', 'Decided in Slack first');
    const issue = await t.issueOf(r.id);
    await t.ctx.service.review(r.id, BOB.id, 'approve', 'slack');
    await t.waitForStatus(issue.key, 'Approved');
    t.jira.move(issue.key, 'Declined', J.dave.accountId);
    await t.deliver(issue.key);
    await t.commentMatching(issue.key, /did not accept this move by Dave Lead: This request is already/);
    await t.waitForStatus(issue.key, 'Approved');
    expect(['approved', 'issued']).toContain((await t.e2e.request(r.id)).state);
  });

  test('two approvals: one Slack click and one Jira move pass the stage; the first Jira approval alone is undone for the next', async () => {
    const r = await request('kube-two', 'Two leads needed');
    const issue = await t.issueOf(r.id);
    t.jira.move(issue.key, 'Approved', J.dave.accountId);
    await t.deliver(issue.key);
    await t.commentMatching(issue.key, /Approval by Dave Lead counted/);
    await t.waitForStatus(issue.key, 'To Do');
    expect((await t.e2e.request(r.id)).state).toBe('pending');
    const message = await t.e2e.approvalMessage(r.id, CHANNEL);
    expect(messageText(message)).toContain(issue.key);
    expect((await t.e2e.click(BOB.id, message, 'access.approve', r.id)).status).toBe(200);
    const done = await t.e2e.waitForState(r.id, 'issued', 15_000);
    expect(done.reviews.map((x) => [x.by, x.via])).toEqual([
      [DAVE.id, 'jira'],
      [BOB.id, 'slack'],
    ]);
    await t.waitForStatus(issue.key, 'Approved');
    await t.commentMatching(issue.key, /Approved by bob <bob@example.com> in Slack \(stage 1: leads\), 2 of 2 approvals\./);
  });

  test('the same person approving in Jira after Slack is not a second approval (distinct approvers)', async () => {
    const r = await request('kube-two', 'Same person twice');
    const issue = await t.issueOf(r.id);
    await t.ctx.service.review(r.id, BOB.id, 'approve', 'slack');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    await t.deliver(issue.key);
    await t.commentMatching(issue.key, /Bob Lead: You already approved this request/);
    await t.waitForStatus(issue.key, 'To Do');
    const now = await t.e2e.request(r.id);
    expect(now.state).toBe('pending');
    expect(now.reviews).toHaveLength(1);
  });
});
