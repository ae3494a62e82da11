import { eventually } from '../helpers/app';
import { messageText, userSshKey } from '../slack/e2e-harness';
import { ALICE, API_POLICY, BOB, CAROL, DAVE, DB_SERVICE, ERIN, OPS_CHANNEL, pagerDutyAccount, USERGROUPS, USERS, WORKFLOWS } from './pd-fixtures';
import { PdE2e } from './pd-e2e';

/**
 * The normal approval path with PagerDuty on: on-call context in every approval message and the
 * pending DM, and `pagerduty_oncall` approvers resolved when a stage starts and again when it escalates.
 */

let t: PdE2e;
const aliceKey = userSshKey('alice@laptop');

beforeAll(async () => {
  t = await PdE2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS, pagerduty: pagerDutyAccount() });
  await t.e2e.ctx.keyService.register(ALICE.id, aliceKey.pub, 'slack');
});

afterAll(async () => {
  await t?.stop();
  aliceKey.remove();
});

beforeEach(async () => {
  t.pd.heal();
  t.pd.oncalls = pagerDutyAccount().oncalls ?? [];
  await t.e2e.closeOpenRequestsOf([ALICE.id]);
});

const dmOf = (userId: string, requestId: string) =>
  eventually(() => t.e2e.fake.messages.find((m) => m.channel === t.e2e.fake.dmChannelOf(userId) && m.threadTs === undefined && messageText(m).includes(requestId) && messageText(m).includes('access.approve')), 10_000, `approval DM to ${userId}`);

test('the approval message and the pending DM show who is on call (levels 1 and 2) and the open incidents; the on-call approver’s click counts', async () => {
  const incident = t.pd.trigger(DB_SERVICE, ['PBOB001'], 'Replica 3 is 40 minutes behind', 'high');
  const reply = await t.e2e.command(ALICE.id, 'db-shell 30m check the replica');
  const request = await t.e2e.latestRequestOf(ALICE.id);
  expect(String(reply.body.text)).toContain(request.id);
  expect(request.approvers).toEqual([BOB.id]);

  const message = await t.e2e.approvalMessage(request.id, OPS_CHANNEL);
  const text = messageText(message);
  expect(text).toContain('On call for Database (PDB7Q2X)*: L1 <@U0BOB> · L2 _nobody_');
  expect(text).toContain(`#${incident.number} Replica 3 is 40 minutes behind`);
  expect(text).toContain(`https://example.pagerduty.com/incidents/${incident.id}`);
  expect(text).toMatch(/high urgency, triggered, opened \d+s ago|high urgency, triggered, opened now/);
  const pendingDm = await eventually(() => t.e2e.messagesWith('waiting for approval', t.e2e.fake.dmChannelOf(ALICE.id)).find((m) => messageText(m).includes(request.id)));
  expect(messageText(pendingDm)).toContain('On call for Database (PDB7Q2X)');

  const bobDm = await dmOf(BOB.id, request.id);
  expect(messageText(bobDm)).toContain('L1 <@U0BOB>');
  expect((await t.e2e.click(BOB.id, bobDm, 'access.approve', request.id)).status).toBe(200);
  const advanced = await eventually(async () => {
    const r = await t.e2e.request(request.id);
    return r.stage === 1 ? r : undefined;
  });
  // Stage 2 resolves its on-call at the moment it starts: level 2 of the SRE policy is Dave.
  expect(advanced.approvers.sort()).toEqual([CAROL.id, DAVE.id].sort());
  const daveDm = await dmOf(DAVE.id, request.id);
  expect((await t.e2e.click(DAVE.id, daveDm, 'access.approve', request.id)).status).toBe(200);
  await t.e2e.waitForState(request.id, 'issued');
  t.pd.setStatus(incident.id, 'resolved');
});

test('on escalation the next stage’s on-call is resolved again, at that moment: after a hand-off the new on-call is asked', async () => {
  await t.e2e.command(ALICE.id, 'db-shell 30m nobody answers');
  const request = await t.e2e.latestRequestOf(ALICE.id);
  expect(request.approvers).toEqual([BOB.id]);
  // Level 2 of the SRE policy hands over from Dave to Erin before stage 1 times out (2 s).
  t.pd.oncalls = t.pd.oncalls.map((o) => (o.escalationPolicy === API_POLICY && o.level === 2 ? { ...o, user: 'PERIN01' } : o));
  const escalated = await eventually(async () => {
    const r = await t.e2e.request(request.id);
    return r.stage === 1 ? r : undefined;
  }, 15_000);
  expect(escalated.escalatedStages).toEqual([0]);
  expect(escalated.approvers.sort()).toEqual([CAROL.id, ERIN.id].sort());
  const erinDm = await dmOf(ERIN.id, request.id);
  expect(t.e2e.fake.messages.some((m) => m.channel === t.e2e.fake.dmChannelOf(DAVE.id) && messageText(m).includes(request.id))).toBe(false);
  const escalatedAudit = await t.e2e.audit((e) => e.type === 'stage.escalated' && e.requestId === request.id);
  expect(escalatedAudit).toHaveLength(1);
  expect((await t.e2e.click(ERIN.id, erinDm, 'access.approve', request.id)).status).toBe(200);
  await t.e2e.waitForState(request.id, 'issued');
}, 30_000);

test('an on-call set that resolves to nobody in Slack says so, and the other approvers decide', async () => {
  await t.e2e.command(ALICE.id, 'quiet-ssh 30m look around');
  const request = await t.e2e.latestRequestOf(ALICE.id);
  // Level 1 of the quiet policy is Frank, whose Slack email is not confirmed: not taken as him.
  expect(request.approvers).toEqual([BOB.id]);
  const bobDm = await dmOf(BOB.id, request.id);
  expect(messageText(bobDm)).toContain('Nobody who is a Slack user is on call at level 1 of escalation policy PQUIET9 right now: the other approvers named decide.');
  expect(messageText(bobDm)).toContain('L1 Frank Unconfirmed');
});

test('PagerDuty down: the request still goes to the other approvers, with “on-call unknown”, never blocked', async () => {
  t.pd.breakAll({ status: 500 });
  const reply = await t.e2e.command(ALICE.id, 'cold-ssh 30m while pagerduty is down');
  const request = await t.e2e.latestRequestOf(ALICE.id);
  expect(String(reply.body.text)).toContain(request.id);
  expect(request).toMatchObject({ state: 'pending', approvers: [BOB.id] });
  const bobDm = await dmOf(BOB.id, request.id);
  expect(messageText(bobDm)).toContain('On-call unknown: PagerDuty did not answer (HTTP 500).');
  expect(messageText(bobDm)).toContain('could not be resolved (PagerDuty did not answer): the other approvers named decide.');
  t.pd.heal();
  expect((await t.e2e.click(BOB.id, bobDm, 'access.approve', request.id)).status).toBe(200);
  await t.e2e.waitForState(request.id, 'issued');
});
