import { eventually } from '../helpers/app';
import { ALICE, BOB, CAROL, ESCALATION_CHANNEL, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { E2e, hasButton, messageText, userSshKey } from './e2e-harness';

/**
 * Reminders and stage timeouts are BullMQ delayed jobs fired by the worker. The `escalating`
 * workflow reminds its first stage after 1 s and escalates to the second after 2 s.
 */

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS });
  await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
});
// A person holds one open request per resource: each test starts with none.
beforeEach(() => e2e.closeOpenRequestsOf(USERS.map((u) => u.id)));

afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
});

test('an unanswered request is reminded, then escalated: thread replies, the original message updated, the next stage asked', async () => {
  const reply = await e2e.command(ALICE.id, 'batch 1h');
  expect(String(reply.body.text)).toMatch(/waiting for approval: first-line/);
  const request = await e2e.latestRequestOf(ALICE.id);
  const original = await e2e.approvalMessage(request.id, ESCALATION_CHANNEL);
  const bobsCopy = await e2e.approvalMessage(request.id, e2e.fake.dmChannelOf(BOB.id));

  // Reminder (after 1 s): a thread reply under the channel message and a reminder DM to Bob.
  await eventually(
    () => e2e.fake.messages.find((m) => m.channel === ESCALATION_CHANNEL && m.threadTs === original.ts && /Reminder 1/.test(m.text ?? '')),
    10_000,
    'reminder thread reply',
  );
  await eventually(
    () => e2e.fake.messages.find((m) => m.channel === bobsCopy.channel && m.ts !== bobsCopy.ts && /Reminder 1/.test(messageText(m))),
    10_000,
    'reminder DM to Bob',
  );
  expect(await e2e.audit((ev) => ev.type === 'reminder.sent' && ev.requestId === request.id)).toHaveLength(1);

  // Stage timeout (after 2 s): escalated to second-line; the original channel message says so in place.
  const escalated = await eventually(async () => {
    const r = await e2e.request(request.id);
    return r.stage === 1 ? r : undefined;
  });
  expect(escalated).toMatchObject({ state: 'pending', escalatedStages: [0], approvers: [CAROL.id] });
  const updated = await eventually(() => {
    const current = e2e.fake.message(original.channel, original.ts);
    return current && /Escalated to stage 2/.test(messageText(current)) ? current : undefined;
  });
  expect(updated.updates).toBeGreaterThan(0);
  expect(hasButton(updated, 'access.approve', request.id)).toBe(true);
  expect(await e2e.audit((ev) => ev.type === 'stage.escalated' && ev.requestId === request.id)).toEqual([
    expect.objectContaining({ data: expect.objectContaining({ from: 0, to: 1, fromName: 'first-line', toName: 'second-line' }) }),
  ]);
  await eventually(() => e2e.fake.messages.find((m) => m.channel === ESCALATION_CHANNEL && m.threadTs === original.ts && /escalated to stage/.test(m.text ?? '')));

  // The second stage is asked by DM; Bob, whose stage has passed, can no longer decide.
  const carolsCopy = await e2e.approvalMessage(request.id, e2e.fake.dmChannelOf(CAROL.id));
  const since = e2e.fake.ephemerals.length;
  await e2e.click(BOB.id, original, 'access.approve', request.id);
  const note = await eventually(() => e2e.fake.ephemerals.slice(since).find((m) => m.user === BOB.id));
  expect(note.text).toContain('You are not an approver for stage "second-line"');

  await e2e.click(CAROL.id, carolsCopy, 'access.approve', request.id);
  const approved = await e2e.waitForState(request.id, 'issued');
  expect(approved.reviews.map((r) => r.by)).toEqual([CAROL.id]);
});

test('a submission slower than Slack’s 3-second window is answered with a working view, then updated with the result', async () => {
  // The approval message post hangs for 3 s, so the service call outlives the answer budget.
  e2e.fake.delayNext('chat.postMessage', 3_000, (args) => JSON.stringify(args).includes('nightly job rerun'));
  const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'batch');
  const final = e2e.nextCall('views.update', (c) => c.args.view_id === form.id && JSON.stringify(c.args.view).includes('Follow it with'), 15_000);
  final.catch(() => undefined); // awaited below; a failed expectation before that must not leave it unhandled
  const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'batch', duration: '1h', reason: 'nightly job rerun' });
  const answer = res.json<{ response_action: string; view: { blocks: unknown[] } }>();
  expect(answer.response_action).toBe('update');
  expect(JSON.stringify(answer.view.blocks)).toContain('Submitting your request');

  await final;
  const request = await e2e.latestRequestOf(ALICE.id);
  expect(request.reason).toBe('nightly job rerun');
  expect(JSON.stringify(e2e.view(form.id).view.blocks)).toContain(request.id);
});
