import { startBotProcess, type BotProcess } from '../../src/app/bot-process';
import { AppContext } from '../../src/app/app-context';
import { loadEnv } from '../../src/config/env';
import { AUDIT_EVENT_TYPES as A } from '../../src/engine/audit-event-types';
import { createJiraIntegration, type JiraIntegration } from '../../src/jira/jira-integration';
import { JIRA_WEBHOOK_PATH } from '../../src/jira/jira-webhook-route';
import { jiraSignature } from '../../src/jira/webhook-signature';
import { silentLogger } from '../../src/log/logger';
import { createSlackOutbound } from '../../src/slack/slack-integration';
import { accessRequestProject, FakeJiraApi, type FakeJiraUser } from '../fakes/jira-api';
import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { messageText } from '../slack/e2e-harness';
import { JiraE2e, x509PublicKey } from './jira-e2e';

/**
 * The Jira webhook and its fallbacks: signatures, redeliveries, bodies that disagree with the API,
 * the poll with no webhook at all, two bot replicas on one Redis, and Jira down while a decision is
 * taken in Slack.
 */

const CHANNEL = 'C0APPROVALS';
const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;
const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const J = {
  bob: { accountId: '557058:bob-0002', displayName: 'Bob Lead', email: BOB.email },
  bot: { accountId: '557058:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' },
} satisfies Record<string, FakeJiraUser>;

const WORKFLOWS = {
  resources: {
    kube: { description: 'Production Kubernetes', workflow: 'mixed', duration: { default: '1h', max: '2h' }, x509: { groups: ['developers'] } },
  },
  workflows: {
    mixed: {
      requesters: { everyone: true },
      stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }],
      approval: { slack_channel: CHANNEL, jira: { project: 'PLAT', issue_type: 'Access Request', approved_status: 'Approved', denied_status: 'Declined' } },
    },
  },
};

let t: JiraE2e;

beforeAll(async () => {
  t = await JiraE2e.start({
    workflows: WORKFLOWS,
    users: [ALICE, BOB],
    usergroups: [
      { id: 'S0ENG', handle: 'engineers' },
      { id: 'S0LEADS', handle: 'leads' },
    ],
    jira: { users: [J.bob], apiUser: J.bot, projects: [accessRequestProject('PLAT')] },
    integration: { backoffMs: 150, attempts: 5 },
  });
  await t.ctx.keyService.register(ALICE.id, x509PublicKey(), 'slack');
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

afterEach(async () => {
  t.jira.heal();
  await t.e2e.closeOpenRequestsOf([ALICE.id]);
});

async function pendingIssue(reason: string) {
  const result = await t.ctx.service.submit(ALICE.id, { resource: 'kube', reason, via: 'slack' });
  if (result.status !== 'ok') throw new Error(`submit: ${result.status}`);
  const issue = await t.issueOf(result.request.id);
  await eventually(async () => (await t.e2e.request(result.request.id)).jiraIssue, 10_000, 'the key on the request');
  return { request: result.request, issue };
}

describe('POST /webhooks/jira', () => {
  test('unsigned and mis-signed deliveries get 401, are audited, and change nothing', async () => {
    const { request, issue } = await pendingIssue('signatures');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    const body = t.jira.webhookBody(issue.key);
    const unsigned = await FakeJiraApi.deliver(t.webhookUrl, body, undefined);
    const wrongSecret = await FakeJiraApi.deliver(t.webhookUrl, body, 'not-the-secret');
    const malformed = await FakeJiraApi.deliver(t.webhookUrl, body, undefined, { signature: 'sha1=abcdef' });
    const otherBody = await FakeJiraApi.deliver(t.webhookUrl, body, undefined, { signature: jiraSignature(`${body} `, t.secret) });
    expect([unsigned.status, wrongSecret.status, malformed.status, otherBody.status]).toEqual([401, 401, 401, 401]);
    const refused = await t.e2e.audit((e) => e.type === A.signatureRefused && e.data.source === 'jira');
    expect(refused.map((e) => e.data.reason)).toEqual(['missing', 'mismatch', 'malformed', 'mismatch']);
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.e2e.request(request.id)).state).toBe('pending');
  });

  test('a redelivery (same X-Atlassian-Webhook-Identifier) is answered 200 and acted on once', async () => {
    const { request, issue } = await pendingIssue('replay');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    const first = await t.deliver(issue.key, { identifier: 'delivery-replay-1' });
    const again = await t.deliver(issue.key, { identifier: 'delivery-replay-1' });
    expect([first.status, again.status]).toEqual([202, 200]);
    await t.e2e.waitForState(request.id, 'issued', 15_000);
    const webhooks = await t.e2e.audit((e) => e.type === A.jiraWebhook && e.data.delivery === 'delivery-replay-1');
    expect(webhooks).toHaveLength(1);
    expect((await t.e2e.request(request.id)).reviews).toHaveLength(1);
  });

  test('a body claiming "Approved" while the API shows the issue untouched does nothing', async () => {
    const { request, issue } = await pendingIssue('lying body');
    const res = await t.deliver(issue.key, { claim: { status: 'Approved' } });
    expect(res.status).toBe(202);
    await eventually(() => t.e2e.audit((e) => e.type === A.jiraWebhook && e.data.issue === issue.id).then((l) => (l.length ? l : undefined)), 5_000);
    await new Promise((r) => setTimeout(r, 300));
    const now = await t.e2e.request(request.id);
    expect(now.state).toBe('pending');
    expect(now.reviews).toEqual([]);
  });

  test('a body that is not a Jira issue event gets 400', async () => {
    const res = await FakeJiraApi.deliver(t.webhookUrl, JSON.stringify({ hello: 'world' }), t.secret);
    expect(res.status).toBe(400);
  });
});

describe('the poll', () => {
  test('with no webhook at all, one poll finds the moved issue and approves through the same path', async () => {
    const { request, issue } = await pendingIssue('poll only');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    const searches = t.jira.calls(/\/search\/jql$/).length;
    expect(await t.integration.poller.poll()).toBeGreaterThanOrEqual(1);
    expect(t.jira.calls(/\/search\/jql$/).length).toBe(searches + 1);
    const jql = t.jira.calls(/\/search\/jql$/).at(-1)!.query.get('jql');
    expect(jql).toMatch(/^labels = "access-bot" AND updated >= -\d+m/);
    const done = await t.e2e.waitForState(request.id, 'issued', 15_000);
    expect(done.reviews).toEqual([expect.objectContaining({ by: BOB.id, via: 'jira' })]);
    // A second poll over the same window acts on nothing twice.
    await t.integration.poller.poll();
    expect((await t.e2e.request(request.id)).reviews).toHaveLength(1);
  });
});

describe('two bot replicas on one Redis', () => {
  let ctx2: AppContext;
  let jira2: JiraIntegration;
  let bot2: BotProcess;
  beforeAll(async () => {
    // The same environment as the first: Slack, Jira, the same REDIS_PREFIX.
    ctx2 = await AppContext.create(loadEnv(t.e2e.app.env), silentLogger());
    const settings = ctx2.env;
    createSlackOutbound(ctx2, settings.slack!);
    jira2 = createJiraIntegration(ctx2, settings.jira!, { backoffMs: 200 });
    bot2 = await startBotProcess(ctx2, [jira2.mount], 0);
  });
  afterAll(async () => {
    await bot2?.stop();
    await jira2?.close();
    await ctx2?.close();
  });

  test('the same delivery to both: one accepts it, one review', async () => {
    const { request, issue } = await pendingIssue('two replicas, one delivery');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    const body = t.jira.webhookBody(issue.key);
    const url2 = `http://127.0.0.1:${bot2.port}${JIRA_WEBHOOK_PATH}`;
    const answers = await Promise.all([
      FakeJiraApi.deliver(t.webhookUrl, body, t.secret, { identifier: 'both-1' }),
      FakeJiraApi.deliver(url2, body, t.secret, { identifier: 'both-1' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    await t.e2e.waitForState(request.id, 'issued', 15_000);
    expect((await t.e2e.request(request.id)).reviews).toHaveLength(1);
  });

  test('both replicas acting on the same change at once (two webhooks, or webhook and poll): one review, the other a no-op', async () => {
    const { request, issue } = await pendingIssue('two replicas, two deliveries');
    t.jira.move(issue.key, 'Approved', J.bob.accountId);
    const outcomes = await Promise.all([t.integration.decisions.onIssue(issue.key), jira2.decisions.onIssue(issue.key)]);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    await t.e2e.waitForState(request.id, 'issued', 15_000);
    const approvals = await t.e2e.audit((e) => e.type === A.reviewApproved && e.requestId === request.id);
    expect(approvals).toHaveLength(1);
  });

  test('the compare-and-set alone: the same Jira review submitted by both replicas counts once', async () => {
    const { request } = await pendingIssue('compare-and-set');
    const reviewer = { accountId: J.bob.accountId, slackUserId: BOB.id };
    const results = await Promise.all([t.ctx.service.reviewInJira(request.id, reviewer, 'approve'), ctx2.service.reviewInJira(request.id, reviewer, 'approve')]);
    expect(results.map((r) => r.status).sort()).toEqual(['noop', 'ok']);
    const approved = await t.e2e.waitForState(request.id, 'issued', 15_000);
    expect(approved.reviews).toHaveLength(1);
  });
});

describe('Jira down', () => {
  test('a decision in Slack still issues the certificate; the issue catches up by retries once Jira is back', async () => {
    const { request, issue } = await pendingIssue('jira goes down');
    t.jira.breakAll(503);
    const message = await t.e2e.approvalMessage(request.id, CHANNEL);
    expect((await t.e2e.click(BOB.id, message, 'access.approve', request.id)).status).toBe(200);
    await t.e2e.waitForState(request.id, 'issued', 15_000);
    await eventually(() => t.e2e.messagesWith('BEGIN CERTIFICATE').find((m) => messageText(m).includes(request.id)), 10_000, 'the certificate DM');
    // The follow-up tried Jira and was refused; nothing waited for it.
    await eventually(() => t.jira.calls().some((c) => c.status === 503), 5_000, 'a refused Jira call');
    t.jira.heal();
    await t.commentMatching(issue.key, /Approved by bob <bob@example.com> in Slack/, 20_000);
    await t.commentMatching(issue.key, /Certificate issued/, 20_000);
    await t.waitForStatus(issue.key, 'Approved', 20_000);
  }, 40_000);

  test('after the last try the failure is audited, and nothing else changes', async () => {
    const { request, issue } = await pendingIssue('jira stays down');
    t.jira.breakAll(503);
    await t.ctx.service.review(request.id, BOB.id, 'approve', 'slack');
    await t.e2e.waitForState(request.id, 'issued', 15_000);
    const failed = await eventually(
      () => t.e2e.audit((e) => e.type === A.externalCallFailed && e.requestId === request.id && e.data.service === 'jira').then((l) => (l.length ? l : undefined)),
      30_000,
      'the audited Jira failure',
    );
    expect(failed[0]!.data).toEqual(expect.objectContaining({ attempts: 5, error: expect.stringMatching(/HTTP 503/) }));
    expect(t.jira.issue(issue.key)!.status).toBe('To Do');
  }, 45_000);
});
