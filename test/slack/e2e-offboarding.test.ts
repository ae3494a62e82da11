import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { APPROVALS_CHANNEL, LOGIN, USERGROUPS } from './e2e-fixtures';
import { E2e, messageText, userSshKey } from './e2e-harness';

/**
 * SOC 2 CC6.2: access is removed when no longer required. A person whose Slack account is
 * deactivated loses their grants (the certificate lands in the KRL), their pending requests are
 * cancelled and their approvals of stages still waiting are withdrawn, each audited with the reason:
 * at once on Slack's user_change event, and by the periodic sweep for events that were missed.
 */

const ANN = { id: 'U0ANN', name: 'ann', email: 'ann@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;
const BEN = { id: 'U0BEN', name: 'ben', email: 'ben@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;
const LEA = { id: 'U0LEA', name: 'lea', email: 'lea@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const LOU = { id: 'U0LOU', name: 'lou', email: 'lou@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const LIV = { id: 'U0LIV', name: 'liv', email: 'liv@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;

const WORKFLOWS = {
  resources: {
    app: { description: 'App servers', workflow: 'one', duration: { default: '1h', max: '2h' }, ssh: { principals: [LOGIN] } },
    db: { description: 'Database hosts', workflow: 'two-of-leads', duration: { default: '1h', max: '2h' }, ssh: { principals: [LOGIN] } },
  },
  workflows: {
    one: { requesters: { slack_groups: ['engineers'] }, reason: { required: false }, stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }], approval: { slack_channel: APPROVALS_CHANNEL } },
    'two-of-leads': {
      requesters: { slack_groups: ['engineers'] },
      reason: { required: false },
      stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] }, approvals: 2 }],
      approval: { slack_channel: APPROVALS_CHANNEL },
    },
  },
};

let e2e: E2e;
const annKey = userSshKey('ann@laptop');
const benKey = userSshKey('ben@laptop');

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: [ANN, BEN, LEA, LOU, LIV], usergroups: USERGROUPS });
  await e2e.command(ANN.id, `key add ${annKey.pub}`);
  await e2e.command(BEN.id, `key add ${benKey.pub}`);
});
afterAll(async () => {
  await e2e?.stop();
  annKey.remove();
  benKey.remove();
});

async function request(userId: string, text: string): Promise<string> {
  await e2e.command(userId, text);
  return (await e2e.latestRequestOf(userId)).id;
}

async function approve(by: string, requestId: string): Promise<void> {
  const message = await e2e.approvalMessage(requestId, APPROVALS_CHANNEL);
  expect((await e2e.click(by, message, 'access.approve', requestId)).status).toBe(200);
}

it('a user_change event for a deactivated account revokes their grant, cancels their request and withdraws their vote, each audited with the reason', async () => {
  const grant = await request(ANN.id, 'app 1h deploy');
  await approve(LEA.id, grant);
  const issued = await e2e.waitForState(grant, 'issued', 15_000);
  const pending = await request(ANN.id, 'db 1h look at the replica');
  // Ann cannot vote on her own; Ben's request gets one of its two votes from Lou, who then leaves too.
  const bens = await request(BEN.id, 'db 1h vacuum');
  await approve(LOU.id, bens);
  await eventually(async () => ((await e2e.request(bens)).reviews.length === 1 ? true : undefined), 10_000, 'Lou voted');

  // Slack deactivates Ann; it says so in a user_change event (the bot re-reads users.info before acting).
  e2e.fake.setUserDeleted(ANN.id, true);
  const res = await e2e.slack.event({ type: 'user_change', user: { id: ANN.id, name: 'ann', deleted: true }, event_ts: `${Date.now() / 1000}` });
  expect(res.status).toBe(200);
  const revoked = await e2e.waitForState(grant, 'revoked');
  expect(revoked.closeReason).toBe('Revoked: the Slack account was deactivated.');
  expect((await e2e.waitForState(pending, 'cancelled')).closeReason).toBe('Cancelled: the Slack account was deactivated.');
  // The certificate is in the revocation list the worker publishes (KRL and CRL).
  await eventually(async () => ((await e2e.ctx.published.revoked()).some((r) => r.serial === issued.certificate!.serial) ? true : undefined), 10_000, 'serial revoked');
  // The summary is written once every request of hers is done.
  await eventually(async () => ((await e2e.audit((ev) => ev.type === 'user.offboarded')).length > 0 ? true : undefined), 10_000, 'user.offboarded');
  const annEvents = await e2e.audit((ev) => ev.requestId === grant || ev.requestId === pending || ev.type === 'user.offboarded');
  expect(annEvents.find((ev) => ev.type === 'request.revoked')?.data).toMatchObject({ cause: 'offboarded', user: ANN.id, reason: 'the Slack account was deactivated', source: 'user_change' });
  expect(annEvents.find((ev) => ev.type === 'request.cancelled')?.data).toMatchObject({ cause: 'offboarded', source: 'user_change' });
  expect(annEvents.filter((ev) => ev.type === 'user.offboarded').map((ev) => ev.data)).toEqual([
    expect.objectContaining({ user: ANN.id, source: 'user_change', revoked: 1, cancelled: 1, votesWithdrawn: 0, requests: expect.arrayContaining([grant, pending]) }),
  ]);
  // Ann is told in Slack.
  await eventually(() => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(ANN.id) && /revoked/i.test(messageText(m)) && messageText(m).includes(grant)), 10_000, 'revoke DM');

  // Lou leaves without an event reaching us (say the bot was down): the sweep finds it through users.info.
  e2e.fake.setUserDeleted(LOU.id, true);
  const swept = await e2e.ctx.offboarding.sweep();
  expect(swept).toMatchObject({ offboarded: 1, failed: 0 });
  const after = await e2e.request(bens);
  expect(after.state).toBe('pending');
  expect(after.reviews).toEqual([]);
  const withdrawn = await e2e.audit((ev) => ev.type === 'review.withdrawn' && ev.requestId === bens);
  expect(withdrawn.map((ev) => ev.data)).toEqual([expect.objectContaining({ cause: 'offboarded', user: LOU.id, stage: 0, source: 'sweep', reason: 'the Slack account was deactivated' })]);
  // Lou's vote no longer counts: Ben's request still needs two approvals from people still here.
  await approve(LEA.id, bens);
  await eventually(async () => ((await e2e.request(bens)).reviews.length === 1 ? true : undefined), 10_000, 'Lea voted');
  expect((await e2e.request(bens)).state).toBe('pending');
  await approve(LIV.id, bens);
  await e2e.waitForState(bens, 'issued', 15_000);

  // A second sweep finds nothing more to do, and a user_change for an account Slack says is active does nothing.
  expect((await e2e.ctx.offboarding.sweep()).offboarded).toBe(0);
  // The worker runs the sweep itself, hourly by default (OFFBOARDING_SWEEP_INTERVAL).
  expect(await e2e.ctx.timersQueue.getJobScheduler('offboarding-sweep')).toMatchObject({ every: 3_600_000 });
  const headBefore = (await e2e.ctx.audit.head()).seq;
  await e2e.slack.event({ type: 'user_change', user: { id: BEN.id, name: 'ben', deleted: true }, event_ts: `${Date.now() / 1000}` });
  await new Promise((r) => setTimeout(r, 300));
  expect((await e2e.request(bens)).state).toBe('issued');
  expect((await e2e.audit((ev) => ev.seq > headBefore && ev.type === 'user.offboarded'))).toEqual([]);
}, 90_000);
