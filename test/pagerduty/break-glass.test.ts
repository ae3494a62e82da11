import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCa } from '../../src/ca/ca-directory';
import { eventually } from '../helpers/app';
import { startTestSshd, type TestSshd } from '../helpers/sshd';
import { certificateIn, hasButton, messageText, userSshKey, viewErrors } from '../slack/e2e-harness';
import { LOGIN } from '../slack/e2e-fixtures';
import { ALERT_CHANNEL, ALICE, API_POLICY, API_SERVICE, BOB, CAROL, DAVE, ERIN, FRANK, pagerDutyAccount, USERGROUPS, USERS, WORKFLOWS } from './pd-fixtures';
import { PdE2e } from './pd-e2e';

/**
 * `/access breakglass` with PagerDuty on: granted at once only when PagerDuty, asked now through
 * pdjs and our port, says the requester is on call at a qualifying level with an open incident;
 * refused with one line (and the normal path) otherwise, PagerDuty failing included.
 */

let t: PdE2e;
let sshd: TestSshd;
const aliceKey = userSshKey('alice@laptop');
const erinKey = userSshKey('erin@laptop');
const frankKey = userSshKey('frank@laptop');

beforeAll(async () => {
  t = await PdE2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS, pagerduty: pagerDutyAccount() });
  for (const [user, key] of [[ALICE.id, aliceKey], [ERIN.id, erinKey], [FRANK.id, frankKey]] as const) await t.e2e.ctx.keyService.register(user, key.pub, 'slack');
  sshd = await startTestSshd({ trustedCaKeys: [loadCa(t.e2e.ctx.env.CA_DIR).ssh.publicLine], user: LOGIN });
});

afterAll(async () => {
  await sshd?.stop();
  await t?.stop();
  for (const k of [aliceKey, erinKey, frankKey]) k.remove();
});

beforeEach(async () => {
  t.pd.heal();
  for (const incident of t.pd.incidents.values()) incident.status = 'resolved';
  await t.e2e.closeOpenRequestsOf([ALICE.id, ERIN.id, DAVE.id, FRANK.id]);
});

describe('break-glass granted by PagerDuty, then reviewed', () => {
  test('on call at level 1 with a triggered incident: approved at once, announced, noted on the incident, the review opened; the certificate logs in to sshd', async () => {
    const incident = t.pd.trigger(API_SERVICE, ['PALICE1'], 'API 5xx storm');
    const reply = await t.e2e.command(ALICE.id, 'breakglass prod-root-breakglass 30m INC-1 restart the wedged pgbouncer');
    const request = await t.e2e.latestRequestOf(ALICE.id);
    expect(String(reply.body.text)).toContain(request.id);
    const issued = await t.e2e.waitForState(request.id, 'issued');
    expect(issued.breakGlass).toMatchObject({
      incidentId: incident.id,
      service: API_SERVICE,
      incidentStatus: 'triggered',
      oncall: { service: API_SERVICE, escalationPolicy: API_POLICY, level: 1, pagerdutyUser: 'PALICE1', schedule: 'PSCHED1' },
      reviewRequired: true,
    });
    expect(issued.grantedMs).toBe(30 * 60_000);

    // Everything the grant rested on is in the audit event.
    const [used] = await t.e2e.audit((e) => e.type === 'breakglass.used' && e.requestId === request.id);
    expect(used?.data).toMatchObject({
      incident: incident.id,
      incidentStatus: 'triggered',
      incidentNumber: incident.number,
      service: API_SERVICE,
      oncall: { level: 1, escalationPolicy: API_POLICY, pagerdutyUser: 'PALICE1' },
      oncallLevels: [1, 2],
    });
    expect((await t.e2e.audit((e) => e.type === 'request.approved' && e.requestId === request.id))[0]?.data.route).toBe('break_glass');

    // The notify channel and people are told at once; the incident gets a note with who, what, until when and the id.
    await eventually(() => t.e2e.messagesWith(request.id, ALERT_CHANNEL).find((m) => messageText(m).includes('broke glass')), 10_000, 'the alert');
    await eventually(() => t.e2e.messagesWith('broke glass', t.e2e.fake.dmChannelOf(BOB.id))[0], 10_000, 'the alert DM');
    const note = await eventually(() => t.pd.notes.find((n) => n.incident === incident.id && n.content.includes(request.id)), 10_000, 'the incident note');
    expect(note.from).toBe('access-bot@example.com');
    expect(note.content).toContain('prod-root-breakglass');
    expect(note.content).toContain(new Date(issued.expiresAt!).toISOString());
    expect(note.content).toContain('alice@example.com');

    // The certificate by DM, and a login to a real sshd with it.
    const dm = await eventually(
      () => t.e2e.fake.messages.find((m) => m.channel === t.e2e.fake.dmChannelOf(ALICE.id) && certificateIn(m) !== undefined && messageText(m).includes(request.id)),
      10_000,
      'the certificate DM',
    );
    const certPath = join(aliceKey.dir, 'bg-cert.pub');
    writeFileSync(certPath, `${certificateIn(dm)}\n`);
    expect(execFileSync('ssh-keygen', ['-L', '-f', certPath], { encoding: 'utf8' })).toContain(request.id);
    const login = await sshd.login({ privateKeyPath: aliceKey.privatePath, certPath, command: 'id -un' });
    expect(login.refusal).toBeUndefined();
    expect(login.stdout.trim()).toBe(LOGIN);

    // The post-incident review: opened for the reviewers (security), reminded while open, closed in Slack with notes.
    const carolDm = t.e2e.fake.dmChannelOf(CAROL.id);
    const opened = await eventually(
      () => t.e2e.fake.messages.find((m) => m.channel === carolDm && hasButton(m, 'access.close_review', request.id) && !messageText(m).includes('Reminder')),
      10_000,
      'the review DM',
    );
    expect(messageText(opened)).toContain(incident.id);
    expect(t.e2e.fake.messages.some((m) => m.channel === t.e2e.fake.dmChannelOf(ALICE.id) && hasButton(m, 'access.close_review'))).toBe(false);
    expect(await t.e2e.audit((e) => e.type === 'breakglass.review_opened' && e.requestId === request.id)).toHaveLength(1);
    const reminded = await eventually(
      () => t.e2e.fake.messages.find((m) => m.channel === carolDm && hasButton(m, 'access.close_review', request.id) && messageText(m).includes('Reminder 1')),
      10_000,
      'the review reminder',
    );
    expect(reminded).toBeDefined();
    expect((await t.e2e.audit((e) => e.type === 'breakglass.review_reminded' && e.requestId === request.id))[0]?.data).toMatchObject({ n: 1 });

    // Alice cannot close her own review; Carol can, with notes.
    const viewOf = async (userId: string) => {
      const triggerId = t.e2e.fake.newTriggerId({ userId });
      const openCall = t.e2e.nextCall('views.open', (c) => c.args.trigger_id === triggerId);
      const click = await t.e2e.slack.blockActions({ userId, channelId: opened.channel, messageTs: opened.ts, triggerId, actions: [{ actionId: 'access.close_review', value: request.id }] });
      expect(click.status).toBe(200);
      return t.e2e.view(((await openCall).response.view as { id: string }).id);
    };
    const submit = (userId: string, view: { id: string }, notes: string) =>
      t.e2e.slack.viewSubmission({
        userId,
        view: { id: view.id, callbackId: 'access.break_glass_review', privateMetadata: request.id, values: { notes: { review_notes_input: { type: 'plain_text_input', value: notes } } } },
      });
    const aliceView = await viewOf(ALICE.id);
    expect(viewErrors(await submit(ALICE.id, aliceView, 'I did it'))).toEqual({ notes: expect.stringMatching(/cannot review your own/) });
    const carolView = await viewOf(CAROL.id);
    expect(viewErrors(await submit(CAROL.id, carolView, '   '))).toEqual({ notes: expect.stringMatching(/Write what was done/) });
    const closed = await submit(CAROL.id, carolView, 'Restarted pgbouncer on api-7; the incident needed it. Fine.');
    expect(closed.status).toBe(200);
    expect(closed.text).toBe('');
    expect((await t.e2e.request(request.id)).breakGlass?.review).toMatchObject({ by: CAROL.id, notes: 'Restarted pgbouncer on api-7; the incident needed it. Fine.' });
    expect((await t.e2e.audit((e) => e.type === 'breakglass.reviewed' && e.requestId === request.id))[0]?.data).toMatchObject({ incident: incident.id });
    expect(await t.e2e.audit((e) => e.type === 'breakglass.review_refused' && e.requestId === request.id)).toHaveLength(2);
    await eventually(() => t.e2e.messagesWith('review of', ALERT_CHANNEL).find((m) => messageText(m).includes(request.id) && messageText(m).includes('closed')), 10_000, 'review closed notice');

    // No reminder after it is closed.
    const reminders = (await t.e2e.audit((e) => e.type === 'breakglass.review_reminded' && e.requestId === request.id)).length;
    await new Promise((r) => setTimeout(r, 4_500));
    expect(await t.e2e.audit((e) => e.type === 'breakglass.review_reminded' && e.requestId === request.id)).toHaveLength(reminders);
  }, 40_000);

  test('level 2 of the escalation policy qualifies too, on an acknowledged incident', async () => {
    t.pd.setStatus(t.pd.trigger(API_SERVICE, ['PDAVE01'], 'latency').id, 'acknowledged');
    await t.e2e.ctx.keyService.register(DAVE.id, aliceKey.pub.replace('alice@laptop', 'dave@laptop'), 'slack');
    await t.e2e.command(DAVE.id, 'breakglass prod-root-breakglass INC-2 drain api-3');
    const request = await t.e2e.latestRequestOf(DAVE.id);
    expect(request.state).not.toBe('pending');
    expect(request.breakGlass).toMatchObject({ incidentStatus: 'acknowledged', oncall: { level: 2, pagerdutyUser: 'PDAVE01' } });
    await t.e2e.waitForState(request.id, 'issued');
  });
});

describe('break-glass from the request form, where the workflow allows it', () => {
  test('the form offers the break-glass choice; checked, it is granted at once; not on call, it is refused under the choice', async () => {
    const incident = t.pd.trigger(API_SERVICE, ['PALICE1'], 'API down');
    const form = await t.e2e.chooseResource(ALICE.id, await t.e2e.openRequestModal(ALICE.id), 'prod-root-breakglass');
    expect(JSON.stringify(form.view.blocks)).toContain('"block_id":"breakglass"');
    const res = await t.e2e.submitRequestModal(ALICE.id, form, { resource: 'prod-root-breakglass', duration: '30m', reason: 'INC-3 restart pgbouncer on api-7', breakGlass: true });
    expect(res.status).toBe(200);
    const request = await t.e2e.latestRequestOf(ALICE.id);
    expect(request.breakGlass).toMatchObject({ incidentId: incident.id, oncall: { level: 1 } });
    await t.e2e.waitForState(request.id, 'issued');

    const erinForm = await t.e2e.chooseResource(ERIN.id, await t.e2e.openRequestModal(ERIN.id), 'prod-root-breakglass');
    const refused = await t.e2e.submitRequestModal(ERIN.id, erinForm, { resource: 'prod-root-breakglass', duration: '30m', reason: 'INC-3 look at things', breakGlass: true });
    expect(viewErrors(refused)).toEqual({ breakglass: expect.stringMatching(/on call in PagerDuty/) });

    // A form without the choice checked goes to the approvers as usual.
    const normal = await t.e2e.submitRequestModal(ERIN.id, erinForm, { resource: 'prod-root-breakglass', duration: '30m', reason: 'INC-3 look at things', breakGlass: false });
    expect(normal.status).toBe(200);
    expect((await t.e2e.latestRequestOf(ERIN.id)).state).toBe('pending');
  });

  test('a workflow without break-glass does not offer it', async () => {
    const workflows = Object.entries(WORKFLOWS.resources).find(([, r]) => !(WORKFLOWS.workflows as Record<string, { break_glass?: unknown }>)[r.workflow]?.break_glass);
    if (!workflows) throw new Error('the fixtures need a resource without break-glass');
    const form = await t.e2e.chooseResource(ALICE.id, await t.e2e.openRequestModal(ALICE.id), workflows[0]);
    expect(JSON.stringify(form.view.blocks)).not.toContain('"block_id":"breakglass"');
  });
});

test('the grant ends when the incident it rests on resolves (the webhook, re-read from the API)', async () => {
  const incident = t.pd.trigger(API_SERVICE, ['PALICE1'], 'disk full');
  await t.e2e.command(ALICE.id, 'breakglass prod-root-breakglass INC-3 free some disk');
  const request = await t.e2e.latestRequestOf(ALICE.id);
  await t.e2e.waitForState(request.id, 'issued');
  // A resolve event whose body lies (the incident is still open in PagerDuty) changes nothing.
  expect((await t.deliver('incident.resolved', incident.id)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 400));
  expect((await t.e2e.request(request.id)).state).toBe('issued');
  t.pd.setStatus(incident.id, 'resolved');
  expect((await t.deliver('incident.resolved', incident.id)).status).toBe(202);
  const revoked = await t.e2e.waitForState(request.id, 'revoked');
  expect(revoked.closeReason).toBe(`PagerDuty incident #${incident.number} resolved`);
  await eventually(async () => (await t.e2e.ctx.published.revoked()).find((r) => r.serial === revoked.certificate?.serial), 10_000, 'the serial among the revoked');
});

describe('break-glass refused, in one line, with the normal path offered', () => {
  const refusedWith = async (userId: string, pattern: RegExp) => {
    const before = (await t.e2e.ctx.store.listByRequester(userId, 200)).length;
    const reply = await t.e2e.command(userId, 'breakglass prod-root-breakglass INC-9 look at things');
    const text = String(reply.body.text).replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    expect(text).toMatch(pattern);
    expect(text).toContain('/access prod-root-breakglass <duration> <reason>');
    expect(await t.e2e.ctx.store.listByRequester(userId, 200)).toHaveLength(before);
    const [refused] = (await t.e2e.audit((e) => e.type === 'request.refused' && e.data.code === 'BREAK_GLASS_NOT_ALLOWED' && e.actor.id === userId)).slice(-1);
    return { text, refused };
  };

  test('on call, but no triggered or acknowledged incident where one is required', async () => {
    const { refused } = await refusedWith(ALICE.id, /needs an active PagerDuty incident \(triggered or acknowledged\) on PAPI7X2, and there is none/);
    expect(refused?.data).toMatchObject({ oncall: [expect.objectContaining({ level: 1, pagerdutyUser: 'PALICE1' })], incidents: [] });
  });

  test('not on call', async () => {
    t.pd.trigger(API_SERVICE, ['PALICE1']);
    await refusedWith(ERIN.id, /needs you to be on call in PagerDuty for PAPI7X2 at level 1 or 2, and you are not/);
  });

  test('on call, but at a level the workflow does not count', async () => {
    t.pd.trigger(API_SERVICE, ['PALICE1']);
    t.pd.oncalls.push({ escalationPolicy: API_POLICY, level: 3, user: 'PERIN01' });
    try {
      await refusedWith(ERIN.id, /at level 1 or 2; you are on call at level 3/);
    } finally {
      t.pd.oncalls = t.pd.oncalls.filter((o) => o.user !== 'PERIN01');
    }
  });

  test('a Slack email that is not confirmed never stands for a PagerDuty user', async () => {
    t.pd.trigger(API_SERVICE, ['PFRANK1']);
    t.pd.oncalls.push({ escalationPolicy: API_POLICY, level: 1, user: 'PFRANK1' });
    try {
      await refusedWith(FRANK.id, /your Slack email|not confirmed/);
    } finally {
      t.pd.oncalls = t.pd.oncalls.filter((o) => o.user !== 'PFRANK1');
    }
  });

  test('PagerDuty answering 500', async () => {
    t.pd.trigger(API_SERVICE, ['PALICE1']);
    t.pd.breakAll({ status: 500 });
    const { refused } = await refusedWith(ALICE.id, /PagerDuty could not confirm that you are on call \(HTTP 500\), so no break-glass was granted/);
    expect(refused?.data).toMatchObject({ pagerduty: 'HTTP 500' });
    // Reads were retried before giving up.
    expect(t.pd.calls(/^\/(oncalls|users|services|incidents)/).filter((c) => c.status === 500).length).toBeGreaterThanOrEqual(3);
  });

  test('PagerDuty hanging', async () => {
    t.pd.trigger(API_SERVICE, ['PALICE1']);
    t.pd.breakAll('hang');
    const { refused } = await refusedWith(ALICE.id, /PagerDuty could not confirm that you are on call \(no answer within 1500 ms\)/);
    expect(refused?.data).toMatchObject({ pagerduty: 'no answer within 1500 ms' });
    t.pd.heal();
    // And it works again as soon as PagerDuty answers.
    await t.e2e.command(ALICE.id, 'breakglass prod-root-breakglass INC-10 it is back');
    const request = await t.e2e.latestRequestOf(ALICE.id);
    await t.e2e.waitForState(request.id, 'issued');
  }, 30_000);
});
