import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ReviewCampaign } from '../../src/access-review/access-review-campaign';
import { lastCompletePeriod } from '../../src/access-review/review-period';
import { loadWorkflows } from '../../src/config/workflow-loader';
import type { Soc2Report } from '../../src/reports/soc2-report';
import type { FakeSlackMessage } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { ALICE, APPROVALS_CHANNEL, BOB, CAROL, DAVE, MALLORY, USERGROUPS, USERS, WORKFLOWS } from '../slack/e2e-fixtures';
import { E2e, hasButton, messageText, userSshKey } from '../slack/e2e-harness';

/** The periodic access review in Slack: the worker posts it, reviewers answer with buttons, admins see removals. */

const workflows = {
  ...WORKFLOWS,
  admins: { users: [BOB.id] },
  reviews: {
    'quarterly-production': {
      description: 'Production access, every quarter.',
      cadence: 'quarterly',
      reviewers: { slack_groups: ['security'], users: [DAVE.id] },
      resources: ['prod-ssh', 'prod-db'],
    },
  },
};

let e2e: E2e;
let campaign: ReviewCampaign;
const keys = [ALICE, MALLORY, DAVE].map((u) => userSshKey(`${u.name}@laptop`));

async function grant(userId: string, text: string, approvers: string[]): Promise<string> {
  const reply = await e2e.command(userId, text);
  expect(String(reply.body.text)).toMatch(/waiting for approval/);
  const id = (await e2e.latestRequestOf(userId)).id;
  for (const approver of approvers) {
    const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    await e2e.click(approver, message, 'access.approve', id);
    await eventually(async () => ((await e2e.request(id)).reviews.some((r) => r.by === approver) ? true : undefined));
  }
  await e2e.waitForState(id, 'issued');
  return id;
}

const reviewDm = (userId: string) =>
  eventually(() => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(userId) && messageText(m).includes(`${campaign.id}|`)), 10_000, `review DM to ${userId}`);
const itemOf = (user: string, resource: string) => campaign.items.find((i) => i.user === user && i.resource === resource)!;
const click = (userId: string, dm: FakeSlackMessage, decision: 'keep' | 'remove', n: number) =>
  e2e.slack.blockActions({ userId, channelId: dm.channel, messageTs: dm.ts, actions: [{ actionId: `access.review_${decision}`, value: `${campaign.id}|${n}`, blockId: `review.decide.${n}` }] });
const ephemeralTo = (userId: string, text: RegExp) => eventually(() => e2e.fake.ephemerals.find((m) => m.user === userId && text.test(String(m.text))), 10_000, `ephemeral to ${userId}`);

beforeAll(async () => {
  e2e = await E2e.start({ workflows, users: USERS, usergroups: USERGROUPS });
  for (const [i, u] of [ALICE, MALLORY, DAVE].entries()) await e2e.command(u.id, `key add ${keys[i]!.pub}`);
  await grant(ALICE.id, 'prod-ssh 1h INC-1 deploy', [BOB.id]);
  await grant(MALLORY.id, 'prod-ssh 30m INC-2 logs', [DAVE.id]);
  const dave = await e2e.ctx.service.submit(DAVE.id, { resource: 'prod-db', reason: 'vacuum', ticket: 'OPS-3', via: 'slack' });
  if (dave.status !== 'ok') throw new Error(JSON.stringify(dave));
  const daveId = dave.request.id;
  await e2e.ctx.service.review(daveId, BOB.id, 'approve', 'slack');
  await e2e.ctx.service.review(daveId, CAROL.id, 'approve', 'slack');
  await e2e.waitForState(daveId, 'issued');
  // The worker checks for due reviews on its own; at the start of next quarter this quarter is due.
  const now = new Date();
  const nextQuarter = Date.UTC(now.getUTCFullYear(), Math.floor(now.getUTCMonth() / 3) * 3 + 3, 1, 0, 5);
  const started = await e2e.worker.accessReviews.runDue(nextQuarter);
  expect(started).toHaveLength(1);
  campaign = started[0]!;
  expect(await e2e.worker.accessReviews.runDue(nextQuarter)).toEqual([]);
});
afterAll(async () => {
  await e2e?.stop();
  for (const k of keys) k.remove();
});

test('each reviewer gets the people who held each resource this quarter, with Keep and Remove; their own access has no buttons', async () => {
  expect(campaign.period).toEqual(lastCompletePeriod('quarterly', Date.UTC(new Date().getUTCFullYear(), Math.floor(new Date().getUTCMonth() / 3) * 3 + 3, 1, 0, 5)));
  expect(campaign.reviewers.sort()).toEqual([CAROL.id, DAVE.id].sort());
  expect(campaign.items.map((i) => `${i.user} ${i.resource} ${i.grants}`)).toEqual([`${DAVE.id} prod-db 1`, `${ALICE.id} prod-ssh 1`, `${MALLORY.id} prod-ssh 1`]);
  const carols = await reviewDm(CAROL.id);
  expect(messageText(carols)).toContain(`Access review quarterly-production, ${campaign.period.label}`);
  for (const item of campaign.items) expect(hasButton(carols, 'access.review_keep', `${campaign.id}|${item.n}`)).toBe(true);
  const daves = await reviewDm(DAVE.id);
  expect(hasButton(daves, 'access.review_keep', `${campaign.id}|${itemOf(DAVE.id, 'prod-db').n}`)).toBe(false);
  expect(messageText(daves)).toContain('Your own access: another reviewer decides.');
  const [started] = await e2e.audit((e) => e.type === 'access_review.started' && e.data.campaign === campaign.id);
  expect(started!.data).toMatchObject({ review: 'quarterly-production', period: campaign.period.label, items: 3, resources: ['prod-db', 'prod-ssh'] });
});

test('Keep is recorded once, audited, and drawn on the message; a second reviewer is told it is decided', async () => {
  const dm = await reviewDm(CAROL.id);
  const n = itemOf(ALICE.id, 'prod-ssh').n;
  const updated = e2e.nextCall('chat.update', (c) => c.args.ts === dm.ts);
  await click(CAROL.id, dm, 'keep', n);
  await updated;
  const after = e2e.fake.message(dm.channel, dm.ts)!;
  expect(messageText(after)).toContain('Kept by you');
  expect(hasButton(after, 'access.review_keep', `${campaign.id}|${n}`)).toBe(false);

  const daves = await reviewDm(DAVE.id);
  await click(DAVE.id, daves, 'remove', n);
  await ephemeralTo(DAVE.id, /<@U0CAROL> already kept this access/);
  const answers = await e2e.audit((e) => e.type.startsWith('access_review.answer') && e.data.campaign === campaign.id);
  expect(answers.map((e) => [e.type, e.actor.id, e.data.decision, e.data.code])).toEqual([
    ['access_review.answered', CAROL.id, 'keep', undefined],
    ['access_review.answer_refused', DAVE.id, 'remove', 'ALREADY_ANSWERED'],
  ]);
});

test('Remove makes a pending change the admins get by DM and in `report pending-changes`; closing it is audited', async () => {
  const dm = await reviewDm(CAROL.id);
  const n = itemOf(MALLORY.id, 'prod-ssh').n;
  await click(CAROL.id, dm, 'remove', n);
  const changeId = `chg-${campaign.id}-${n}`;
  const adminDm = await eventually(() => e2e.messagesWith(changeId, e2e.fake.dmChannelOf(BOB.id))[0], 10_000, 'admin DM');
  expect(messageText(adminDm)).toContain('take U0MALLORY out of Slack group @engineers, or the group out of workflows.ops.requesters');
  await eventually(() => (messageText(e2e.fake.message(dm.channel, dm.ts)!).includes('Removal requested by you') ? true : undefined));

  const env = { REDIS_PREFIX: e2e.ctx.env.REDIS_PREFIX, USER: 'secadmin' };
  const listed = await runCli(['report', 'pending-changes'], env);
  expect(listed.stdout).toMatch(new RegExp(`^${changeId}  OPEN    remove U0MALLORY from prod-ssh: take U0MALLORY out of Slack group @engineers`));
  expect((await runCli(['report', 'pending-changes', '--close', changeId], env)).code).toBe(2);
  expect((await runCli(['report', 'pending-changes', '--close', changeId, '--note', 'removed from @engineers in Okta'], env)).stdout).toBe(`closed ${changeId}\n`);
  expect((await runCli(['report', 'pending-changes', '--close', changeId, '--note', 'again'], env)).stderr).toMatch(/was closed by cli:secadmin already/);
  const [closed] = await e2e.audit((e) => e.type === 'access_review.change_closed');
  expect(closed).toMatchObject({ actor: { id: 'cli:secadmin', via: 'cli' }, data: { change: changeId, user: MALLORY.id, resource: 'prod-ssh' } });
});

test('people who are not reviewers, and reviewers about their own access, are refused and audited', async () => {
  const dm = await reviewDm(CAROL.id);
  await click(MALLORY.id, dm, 'keep', itemOf(MALLORY.id, 'prod-ssh').n);
  await ephemeralTo(MALLORY.id, /You are not a reviewer of quarterly-production/);
  const daves = await reviewDm(DAVE.id);
  await click(DAVE.id, daves, 'keep', itemOf(DAVE.id, 'prod-db').n);
  await ephemeralTo(DAVE.id, /You cannot review your own access/);
  const refused = await e2e.audit((e) => e.type === 'access_review.answer_refused');
  expect(refused.map((e) => [e.actor.id, e.data.code])).toEqual([
    [DAVE.id, 'ALREADY_ANSWERED'],
    [MALLORY.id, 'NOT_REVIEWER'],
    [DAVE.id, 'SELF_APPROVAL'],
  ]);
});

test('the next SOC 2 report shows the review under CC6.2 and CC6.3', async () => {
  const r = await runCli(['report', 'soc2', '--period', campaign.period.label, '--format', 'json', '--source', 'redis'], { REDIS_PREFIX: e2e.ctx.env.REDIS_PREFIX });
  const report = JSON.parse(r.stdout) as Soc2Report;
  const evidence = (id: string) => Object.fromEntries(report.controls.find((c) => c.id === id)!.evidence.map((e) => [e.label, e.value]));
  // The worker also sent last quarter's review when it started (nobody held anything then).
  expect(evidence('CC6.2')).toMatchObject({ 'access reviews started': 2, 'people × resources put to reviewers': 3, 'review answers: keep': 1, 'review answers: remove': 1, 'review items unanswered': 1 });
  expect(evidence('CC6.3')).toMatchObject({ 'access review removals requested': 1, 'requested removals closed by an admin': 1, 'self-approval attempts refused': 1, 'decisions by non-approvers refused': 1 });
  expect(report.controls.find((c) => c.id === 'CC6.2')!.status).toBe('answered');
});

test('workflows check names a review resource that does not exist, with its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reviews-'));
  writeFileSync(join(dir, 'w.yaml'), stringify({ ...WORKFLOWS, reviews: { q: { cadence: 'quarterly', reviewers: { users: [CAROL.id] }, resources: ['prod-sh'] } } }));
  const { problems } = await loadWorkflows(dir, { displayRoot: dir });
  expect(problems.map((p) => `${p.file}:${p.field} ${p.message}`)).toEqual(['w.yaml:reviews.q.resources.0 no resource named "prod-sh" in any file; did you mean "prod-ssh"?']);
});
