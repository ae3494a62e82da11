import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCa } from '../../src/ca/ca-directory';
import type { AccessRequest } from '../../src/engine/types';
import { eventually } from '../helpers/app';
import { startTestSshd, type TestSshd } from '../helpers/sshd';
import { ALICE, APPROVALS_CHANNEL, BOB, CAROL, DAVE, LOGIN, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { certificateIn, E2e, hasButton, messageText, userSshKey, viewErrors } from './e2e-harness';

/**
 * The whole path a person takes: /access (modal and fast path), the approval message, a click,
 * the worker signing, the certificate DM'd, and a login to a real sshd with it.
 */

interface Block {
  type: string;
  block_id?: string;
  label?: { text: string };
  hint?: { text: string };
  optional?: boolean;
  element?: {
    type: string;
    option_groups?: Array<{ label: { text: string }; options: Array<{ value: string }> }>;
    options?: Array<{ value: string; text: { text: string } }>;
    initial_option?: { value: string };
  };
}

function blocksOf(view: { view: Record<string, unknown> }): Block[] {
  return view.view.blocks as Block[];
}

function block(view: { view: Record<string, unknown> }, id: string): Block | undefined {
  return blocksOf(view).find((b) => b.block_id === id);
}

let e2e: E2e;
let sshd: TestSshd;
const aliceKey = userSshKey('alice@laptop');

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS });
  sshd = await startTestSshd({ trustedCaKeys: [loadCa(e2e.ctx.env.CA_DIR).ssh.publicLine], user: LOGIN });
});

afterAll(async () => {
  await sshd?.stop();
  await e2e?.stop();
  aliceKey.remove();
});

describe('requesting through the /access modal, approving with a click, logging in with the DM’d certificate', () => {
  let requestId: string;

  test('the modal offers what Alice may request, grouped by workflow, then the chosen resource’s options and a key field', async () => {
    const modal = await e2e.openRequestModal(ALICE.id);
    const picker = block(modal, 'resource');
    expect(picker?.element?.type).toBe('static_select');
    const groups = picker?.element?.option_groups ?? [];
    expect(Object.fromEntries(groups.map((g) => [g.label.text, g.options.map((o) => o.value)]))).toEqual({
      emergency: ['core-router'],
      escalating: ['batch'],
      ops: ['kube', 'prod-ssh', 'staging-ssh'],
      'two-stage': ['prod-db'],
    });
    // Vault is for the security group only: not offered to Alice.
    expect(JSON.stringify(groups)).not.toContain('vault');

    const form = await e2e.chooseResource(ALICE.id, modal, 'prod-ssh');
    const duration = block(form, 'duration');
    expect(duration?.element?.options?.map((o) => o.value)).toEqual(['15m', '30m', '1h', '2h', '4h']);
    expect(duration?.element?.initial_option?.value).toBe('1h');
    expect(block(form, 'reason')?.hint?.text).toContain('Start with the incident or change number, e.g. INC-123.');
    // The hint in words; the regular expression is never shown.
    expect(block(form, 'reason')?.hint?.text).not.toContain('^(INC|CHG)-[0-9]+');
    expect(block(form, 'ticket')).toBeUndefined();
    expect(block(form, 'pubkey')?.label?.text).toBe('Your SSH public key');
    expect(JSON.stringify(blocksOf(form))).toContain('Production app servers');

    const res = await e2e.submitRequestModal(ALICE.id, form, {
      resource: 'prod-ssh',
      duration: '2h',
      reason: 'INC-42 restart the stuck API workers',
      pubkey: aliceKey.pub,
    });
    expect(res.status).toBe(200);
    const answer = res.json<{ response_action: string; view: { blocks: unknown[] } }>();
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view.blocks)).toMatch(/waiting for approval/);

    const request = await e2e.latestRequestOf(ALICE.id);
    requestId = request.id;
    expect(JSON.stringify(answer.view.blocks)).toContain(request.id);
    expect(request).toMatchObject({ state: 'pending', resource: 'prod-ssh', grantedMs: 2 * 3_600_000, reason: 'INC-42 restart the stuck API workers' });
    const keys = await e2e.ctx.keyService.list(ALICE.id);
    expect(keys.map((k) => k.fingerprint)).toEqual([request.keyFingerprint]);
    expect(await e2e.audit((ev) => ev.type === 'key.registered' && ev.actor.id === ALICE.id)).toHaveLength(1);
  });

  test('the approval request reaches the channel and both leads by DM', async () => {
    await e2e.approvalMessage(requestId, APPROVALS_CHANNEL);
    await e2e.approvalMessage(requestId, e2e.fake.dmChannelOf(BOB.id));
    await e2e.approvalMessage(requestId, e2e.fake.dmChannelOf(DAVE.id));
  });

  test('Bob approves in the channel; the certificate arrives by DM, ssh-keygen accepts it, and Alice logs in with it', async () => {
    const message = await e2e.approvalMessage(requestId, APPROVALS_CHANNEL);
    const res = await e2e.click(BOB.id, message, 'access.approve', requestId);
    expect(res.status).toBe(200);

    const issued = await e2e.waitForState(requestId, 'issued');
    const dm = await eventually(
      () => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(ALICE.id) && certificateIn(m) !== undefined && messageText(m).includes(requestId)),
      10_000,
      'the certificate DM',
    );
    const certificate = certificateIn(dm) as string;
    expect(issued.certificate?.text.startsWith(certificate)).toBe(true);
    expect(messageText(dm)).toContain('CertificateFile=');

    const certPath = join(aliceKey.dir, 'id-cert.pub');
    writeFileSync(certPath, `${certificate}\n`);
    const listing = execFileSync('ssh-keygen', ['-L', '-f', certPath], { encoding: 'utf8' });
    expect(listing).toMatch(/Type: ssh-ed25519-cert-v01@openssh.com user certificate/);
    expect(listing).toContain(requestId);
    expect(listing).toMatch(new RegExp(`Principals: \\n\\s+${LOGIN}\\n`));

    const login = await sshd.login({ privateKeyPath: aliceKey.privatePath, certPath, command: 'id -un' });
    expect(login.refusal).toBeUndefined();
    expect(login.ok).toBe(true);
    expect(login.stdout.trim()).toBe(LOGIN);

    // Every copy of the approval message now says who approved, and offers no buttons.
    const channelCopy = e2e.fake.message(message.channel, message.ts);
    expect(hasButton(channelCopy ?? {}, 'access.approve')).toBe(false);
    expect(messageText(channelCopy ?? {})).toMatch(/Approved/);
    expect(await e2e.audit((ev) => ev.type === 'cert.delivered' && ev.requestId === requestId)).toHaveLength(1);
  });
});

describe('the fast path and concurrent clicks', () => {
  // A person holds one open request per resource: each test starts with none.
  beforeEach(() => e2e.closeOpenRequestsOf([ALICE.id]));

  test('`/access prod-ssh 30m INC-7 …` submits at once and says what happens next', async () => {
    const reply = await e2e.command(ALICE.id, 'prod-ssh 30m INC-7 check the error logs');
    expect(reply.body.response_type).toBe('ephemeral');
    expect(String(reply.body.text)).toMatch(/waiting for approval/);
    const request = await e2e.latestRequestOf(ALICE.id);
    expect(String(reply.body.text)).toContain(request.id);
    expect(request).toMatchObject({ state: 'pending', grantedMs: 30 * 60_000, reason: 'INC-7 check the error logs' });
  });

  test('a duration is optional: the second word is part of the reason when it is not a duration', async () => {
    const reply = await e2e.command(ALICE.id, 'prod-ssh INC-8 rotate the logs');
    expect(String(reply.body.text)).toMatch(/waiting for approval/);
    const request = await e2e.latestRequestOf(ALICE.id);
    expect(request).toMatchObject({ grantedMs: 3_600_000, reason: 'INC-8 rotate the logs' });
    await e2e.ctx.service.cancel(request.id, ALICE.id, 'slack');
  });

  test('two Approve clicks at once by the same lead give one approval, one issuance, and a note for the second click', async () => {
    await e2e.command(ALICE.id, 'prod-ssh 30m INC-9 double click');
    const request = await e2e.latestRequestOf(ALICE.id);
    const dm = await e2e.approvalMessage(request.id, e2e.fake.dmChannelOf(DAVE.id));

    const [a, b] = await Promise.all([e2e.click(DAVE.id, dm, 'access.approve', request.id), e2e.click(DAVE.id, dm, 'access.approve', request.id)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await e2e.waitForState(request.id, 'issued');

    expect(await e2e.audit((ev) => ev.type === 'review.approved' && ev.requestId === request.id)).toHaveLength(1);
    expect(await e2e.audit((ev) => ev.type === 'request.approved' && ev.requestId === request.id)).toHaveLength(1);
    expect(await e2e.audit((ev) => ev.type === 'cert.issued' && ev.requestId === request.id)).toHaveLength(1);
    const notes = await eventually(() => {
      const found = e2e.fake.ephemerals.filter((m) => m.user === DAVE.id && m.channel === dm.channel);
      return found.length > 0 ? found : undefined;
    });
    expect(notes.map((n) => n.text)).toEqual([expect.stringMatching(/already approved/)]);
    expect((await e2e.request(request.id)).reviews).toHaveLength(1);
  });
});

describe('denying with a reason', () => {
  // A person holds one open request per resource: each test starts with none.
  beforeEach(() => e2e.closeOpenRequestsOf([ALICE.id]));

  test('Deny opens the reason modal; an empty reason is refused inline, a reason denies and reaches the requester', async () => {
    await e2e.command(ALICE.id, 'prod-ssh 1h INC-10 need to look at disk usage');
    const request = await e2e.latestRequestOf(ALICE.id);
    const message = await e2e.approvalMessage(request.id, APPROVALS_CHANNEL);

    const triggerId = e2e.fake.newTriggerId({ userId: BOB.id });
    const opened = e2e.nextCall('views.open', (c) => c.args.trigger_id === triggerId);
    const click = await e2e.slack.blockActions({
      userId: BOB.id,
      channelId: message.channel,
      messageTs: message.ts,
      triggerId,
      actions: [{ actionId: 'access.deny', value: request.id, blockId: 'access.decision' }],
    });
    expect(click.status).toBe(200);
    const open = await opened;
    const view = e2e.view((open.response.view as { id: string }).id);
    expect(view.view.callback_id).toBe('access.deny_reason');
    expect(JSON.parse(String(view.view.private_metadata))).toEqual({ requestId: request.id, channel: message.channel, ts: message.ts });
    expect(JSON.stringify(view.view.blocks)).toContain('need to look at disk usage');

    const submit = (reason: string) =>
      e2e.slack.viewSubmission({
        userId: BOB.id,
        view: {
          id: view.id,
          callbackId: 'access.deny_reason',
          privateMetadata: String(view.view.private_metadata),
          values: { reason: { reason_input: { type: 'plain_text_input', value: reason } } },
        },
      });
    const empty = await submit('   ');
    expect(viewErrors(empty)).toEqual({ reason: expect.stringMatching(/Say why/) });
    expect((await e2e.request(request.id)).state).toBe('pending');

    const denied = await submit('Not during the release freeze; ask again on Monday.');
    expect(denied.status).toBe(200);
    expect(denied.text).toBe('');
    const after = await e2e.request(request.id);
    expect(after).toMatchObject({ state: 'denied', closedBy: BOB.id, closeReason: 'Not during the release freeze; ask again on Monday.' });

    await eventually(() => e2e.messagesWith('Not during the release freeze', e2e.fake.dmChannelOf(ALICE.id)).find((m) => messageText(m).includes('denied')));
    await eventually(() => {
      const current = e2e.fake.message(message.channel, message.ts);
      return current && /Denied/.test(messageText(current)) && !hasButton(current, 'access.approve') ? current : undefined;
    });
  });
});

describe('two-stage approval through the modal, with a ticket', () => {
  // A person holds one open request per resource: each test starts with none.
  beforeEach(() => e2e.closeOpenRequestsOf([ALICE.id]));

  test('leads then security approve; the form asked for the ticket; the certificate is issued after the second stage', async () => {
    const modal = await e2e.openRequestModal(ALICE.id);
    const form = await e2e.chooseResource(ALICE.id, modal, 'prod-db');
    const ticket = block(form, 'ticket');
    expect(ticket?.optional).toBe(false);
    expect(ticket?.hint?.text).toContain('OPS-42');
    // Alice registered an SSH key earlier: no key field for another SSH resource.
    expect(block(form, 'pubkey')).toBeUndefined();
    expect(block(form, 'duration')?.element?.options?.map((o) => o.value)).toEqual(['15m', '30m', '1h', '2h']);

    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'prod-db', duration: '1h', reason: 'schema migration', ticket: 'OPS-42' });
    expect(res.json<{ response_action: string }>().response_action).toBe('update');
    const request = await e2e.latestRequestOf(ALICE.id);
    expect(request).toMatchObject({ state: 'pending', stage: 0, ticket: 'OPS-42', resource: 'prod-db' });

    const leadsCopy = await e2e.approvalMessage(request.id, APPROVALS_CHANNEL);
    await e2e.click(BOB.id, leadsCopy, 'access.approve', request.id);
    const atSecurity = await eventually(async () => {
      const r: AccessRequest = await e2e.request(request.id);
      return r.stage === 1 ? r : undefined;
    });
    expect(atSecurity).toMatchObject({ state: 'pending', approvers: [CAROL.id] });
    expect(await e2e.audit((ev) => ev.type === 'stage.advanced' && ev.requestId === request.id)).toHaveLength(1);

    const carolsCopy = await e2e.approvalMessage(request.id, e2e.fake.dmChannelOf(CAROL.id));
    await e2e.click(CAROL.id, carolsCopy, 'access.approve', request.id);
    const issued = await e2e.waitForState(request.id, 'issued');
    expect(issued.reviews.map((r) => [r.stage, r.by])).toEqual([
      [0, BOB.id],
      [1, CAROL.id],
    ]);
  });
});
