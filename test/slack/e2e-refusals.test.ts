import { generateKeyPairSync } from 'node:crypto';
import { eventually } from '../helpers/app';
import { ALICE, APPROVALS_CHANNEL, BOB, MALLORY, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { E2e, hasButton, messageText, userSshKey, viewErrors } from './e2e-harness';

/**
 * Everything that must be refused, and how the person learns why: ephemeral explanations for
 * clicks, inline errors on the modal's fields, replies to commands; refusals audited; forged
 * Slack requests answered 401 with nothing changed.
 */

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');
const weakKey = userSshKey('old@laptop', 'rsa1024');
let requestId: string;
let approval: { channel: string; ts: string };

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS });
  const added = await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
  expect(String(added.body.text)).toMatch(/Registered your SSH ssh-ed25519 key `SHA256:/);
  await e2e.command(ALICE.id, 'prod-ssh 1h INC-1 investigate the queue backlog');
  requestId = (await e2e.latestRequestOf(ALICE.id)).id;
  approval = await e2e.approvalMessage(requestId, APPROVALS_CHANNEL);
});

afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
  weakKey.remove();
});

/** The first ephemeral for `userId` posted after the `since`-th one that matches. */
async function ephemeralFor(userId: string, pattern: RegExp, since: number): Promise<string> {
  const found = await eventually(
    () => e2e.fake.ephemerals.slice(since).find((m) => m.user === userId && pattern.test(m.text ?? '')),
    5_000,
    `ephemeral for ${userId}`,
  );
  return found.text ?? '';
}

describe('decisions by the wrong people', () => {
  test('a non-approver’s Approve is refused with an ephemeral naming the approvers, and audited', async () => {
    const since = e2e.fake.ephemerals.length;
    const res = await e2e.click(MALLORY.id, approval, 'access.approve', requestId);
    expect(res.status).toBe(200);
    const text = await ephemeralFor(MALLORY.id, /not an approver/, since);
    expect(text).toContain('You are not an approver for stage "leads" of this request. Approvers: @leads.');
    expect(e2e.fake.ephemerals.find((m) => m.user === MALLORY.id)?.channel).toBe(APPROVALS_CHANNEL);

    const refused = await e2e.audit((ev) => ev.type === 'review.refused' && ev.requestId === requestId && ev.actor.id === MALLORY.id);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.data).toMatchObject({ code: 'NOT_APPROVER', decision: 'approve' });
    expect(refused[0]?.actor.via).toBe('slack');
    expect((await e2e.request(requestId)).state).toBe('pending');
  });

  test('the requester’s own Approve is refused as self-approval, explained and audited', async () => {
    const since = e2e.fake.ephemerals.length;
    await e2e.click(ALICE.id, approval, 'access.approve', requestId);
    expect(await ephemeralFor(ALICE.id, /own request/, since)).toContain('You cannot decide your own request.');
    const refused = await e2e.audit((ev) => ev.type === 'review.refused' && ev.requestId === requestId && ev.actor.id === ALICE.id);
    expect(refused.map((ev) => ev.data.code)).toEqual(['SELF_APPROVAL']);
    expect((await e2e.request(requestId)).reviews).toEqual([]);
  });

  test('a non-approver’s denial is refused inline in the reason modal, and audited', async () => {
    const triggerId = e2e.fake.newTriggerId({ userId: MALLORY.id });
    const opened = e2e.nextCall('views.open', (c) => c.args.trigger_id === triggerId);
    await e2e.slack.blockActions({
      userId: MALLORY.id,
      channelId: approval.channel,
      messageTs: approval.ts,
      triggerId,
      actions: [{ actionId: 'access.deny', value: requestId }],
    });
    const view = e2e.view(((await opened).response.view as { id: string }).id);
    const res = await e2e.slack.viewSubmission({
      userId: MALLORY.id,
      view: {
        id: view.id,
        callbackId: 'access.deny_reason',
        privateMetadata: String(view.view.private_metadata),
        values: { reason: { reason_input: { type: 'plain_text_input', value: 'I do not like it' } } },
      },
    });
    expect(viewErrors(res)).toEqual({ reason: expect.stringContaining('You are not an approver for stage "leads"') });
    expect(await e2e.audit((ev) => ev.type === 'review.refused' && ev.actor.id === MALLORY.id && ev.data.decision === 'deny')).toHaveLength(1);
    expect((await e2e.request(requestId)).state).toBe('pending');
  });

  test('the requester’s Deny is refused at once, without a reason modal', async () => {
    const opens = e2e.fake.calls('views.open').length;
    const since = e2e.fake.ephemerals.length;
    await e2e.click(ALICE.id, approval, 'access.deny', requestId);
    expect(await ephemeralFor(ALICE.id, /own request/, since)).toContain('You cannot decide your own request.');
    expect(e2e.fake.calls('views.open')).toHaveLength(opens);
    expect(await e2e.audit((ev) => ev.type === 'review.refused' && ev.actor.id === ALICE.id && ev.data.decision === 'deny')).toHaveLength(1);
  });
});

describe('requests Slack did not sign', () => {
  test.each([
    ['forged (signed with another secret)', { signing: 'forged' as const }, 'signature mismatch'],
    ['stale (signed 6 minutes ago)', { signing: 'stale' as const }, 'stale or future timestamp'],
    ['from the future (signed 6 minutes ahead)', { timestampSec: Math.floor(Date.now() / 1000) + 360 }, 'stale or future timestamp'],
  ])('a %s Approve click and command are answered 401, audited, and change nothing else', async (_label, options, reason) => {
    const before = await e2e.request(requestId);
    const auditHead = await e2e.ctx.audit.head();
    const ephemerals = e2e.fake.ephemerals.length;

    const res = await e2e.click(BOB.id, approval, 'access.approve', requestId, options);
    expect(res.status).toBe(401);
    const slash = await e2e.slack.slashCommand({ userId: ALICE.id, text: 'prod-ssh 1h INC-2 forged' }, options);
    expect(slash.status).toBe(401);

    // Give a wrongly accepted request time to do harm before looking.
    await new Promise((r) => setTimeout(r, 200));
    expect(await e2e.request(requestId)).toEqual(before);
    expect(e2e.fake.ephemerals).toHaveLength(ephemerals);
    expect((await e2e.ctx.store.listByRequester(ALICE.id)).map((r) => r.id)).toEqual([requestId]);
    // The only trace: one audit event per refused request, saying why.
    const added = [];
    for await (const event of e2e.ctx.audit.read()) if (event.seq > auditHead.seq) added.push(event);
    expect(added.map((e) => [e.type, e.data.source, e.data.reason])).toEqual([
      ['webhook.signature_refused', 'slack', reason],
      ['webhook.signature_refused', 'slack', reason],
    ]);
  });
});

describe('inline errors in the request modal', () => {
  test('a reason that misses the workflow’s pattern is shown under the reason, with the hint', async () => {
    // staging-ssh: Alice's prod-ssh request is pending, and she may hold one open request per resource.
    const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'staging-ssh');
    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'staging-ssh', duration: '1h', reason: 'just because' });
    expect(viewErrors(res)).toEqual({ reason: 'The reason does not match what this workflow needs. Start with the incident or change number, e.g. INC-123.' });
    const refused = await e2e.audit((ev) => ev.type === 'request.refused' && ev.actor.id === ALICE.id);
    expect(refused.map((ev) => ev.data.code)).toContain('REASON_INVALID');
  });

  test('a duration over the resource’s maximum is shown under the duration', async () => {
    const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'staging-ssh');
    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'staging-ssh', duration: '8h', reason: 'INC-3 long job' });
    expect(viewErrors(res)).toEqual({ duration: '8h is longer than the maximum of 4h for this resource.' });
  });

  test('a second request for a resource with one pending is refused under the resource, pointing at the first', async () => {
    const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'prod-ssh');
    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'prod-ssh', duration: '1h', reason: 'INC-3 again' });
    expect(viewErrors(res)).toEqual({ resource: expect.stringContaining(`You already have a pending request for prod-ssh (${requestId})`) });
  });

  test('a ticket that misses the pattern is shown under the ticket', async () => {
    const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'prod-db');
    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'prod-db', duration: '30m', reason: 'migration', ticket: 'whenever' });
    expect(viewErrors(res)).toEqual({ ticket: expect.stringMatching(/^"whenever" is not a valid ticket reference\. The change ticket, e\.g\. OPS-42\.$/) });
  });

  test('a malformed key is shown under the key field, and nothing is registered', async () => {
    const form = await e2e.chooseResource(MALLORY.id, await e2e.openRequestModal(MALLORY.id), 'prod-ssh');
    expect(JSON.stringify(form.view.blocks)).toContain('"block_id":"pubkey"');
    const res = await e2e.submitRequestModal(MALLORY.id, form, {
      resource: 'prod-ssh',
      duration: '1h',
      reason: 'INC-4 check',
      pubkey: 'ssh-ed25519 this-is-not-base64!! mallory@laptop',
    });
    expect(Object.keys(viewErrors(res))).toEqual(['pubkey']);
    expect(await e2e.ctx.keyService.list(MALLORY.id)).toEqual([]);
    expect(await e2e.audit((ev) => ev.type === 'key.refused' && ev.actor.id === MALLORY.id)).toHaveLength(1);
    expect(await e2e.ctx.store.listByRequester(MALLORY.id)).toEqual([]);
  });

  test('a pasted private key is refused under the key field', async () => {
    const form = await e2e.chooseResource(MALLORY.id, await e2e.openRequestModal(MALLORY.id), 'prod-ssh');
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const res = await e2e.submitRequestModal(MALLORY.id, form, { resource: 'prod-ssh', duration: '1h', reason: 'INC-5 check', pubkey: pem });
    expect(viewErrors(res).pubkey).toMatch(/private key/i);
    expect(await e2e.ctx.keyService.list(MALLORY.id)).toEqual([]);
  });

  test('an X.509 resource asks for a PEM key even when an SSH key is registered, and refuses an SSH key there', async () => {
    const form = await e2e.chooseResource(ALICE.id, await e2e.openRequestModal(ALICE.id), 'kube');
    expect(JSON.stringify(form.view.blocks)).toContain('Your public key or CSR (PEM)');
    const res = await e2e.submitRequestModal(ALICE.id, form, { resource: 'kube', duration: '1h', reason: 'INC-6 pods', pubkey: aliceKey.pub });
    expect(viewErrors(res)).toEqual({ pubkey: expect.stringContaining('paste a PEM public key or CSR') });
  });

  test('a resource the person may not request: `/access vault` opens the form saying so, with vault not offered', async () => {
    const modal = await e2e.openRequestModal(ALICE.id, 'vault');
    const json = JSON.stringify(modal.view.blocks);
    expect(json).toContain('You may not request *vault*');
    expect(json).not.toContain('"value":"vault"');
  });
});

describe('refusals answered to commands', () => {
  test('`/access key add` with a 1024-bit RSA key is refused with the reason, audited, and not registered', async () => {
    const reply = await e2e.command(MALLORY.id, `key add ${weakKey.pub}`);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(String(reply.body.text)).toMatch(/^:no_entry_sign: Key not registered: .*1024.*2048/);
    expect(await e2e.ctx.keyService.list(MALLORY.id)).toEqual([]);
    const refused = await e2e.audit((ev) => ev.type === 'key.refused' && ev.actor.id === MALLORY.id && ev.data.code === 'SSH_KEY_TOO_WEAK');
    expect(refused).toHaveLength(1);
  });

  test('break-glass with PagerDuty off is refused with the reason', async () => {
    const reply = await e2e.command(ALICE.id, 'breakglass core-router INC-99 routers down');
    expect(String(reply.body.text)).toContain('Break-glass needs PagerDuty, which is not connected');
    expect(String(reply.body.text)).toContain('Request core-router normally with `/access core-router &lt;duration&gt; &lt;reason&gt;`');
    const refused = await e2e.audit((ev) => ev.type === 'request.refused' && ev.data.code === 'BREAK_GLASS_NOT_ALLOWED');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.data).toMatchObject({ breakGlass: true, resource: 'core-router' });
  });

  test('a fast-path request without the ticket its workflow needs says how to give one', async () => {
    const reply = await e2e.command(ALICE.id, 'prod-db 30m migration');
    expect(String(reply.body.text)).toMatch(/A ticket reference is required/);
    expect(String(reply.body.text)).toContain('`/access prod-db 1h OPS-42 &lt;reason&gt;`');
    expect(String(reply.body.text)).toContain('`/access prod-db`');
  });

  test('an unknown word gets the help, naming the word and the resources the person may request', async () => {
    const reply = await e2e.command(ALICE.id, 'frobnicate now');
    const text = String(reply.body.text);
    expect(text).toContain('There is no command or resource called `frobnicate`.');
    expect(text).toContain('/access extend &lt;id&gt; &lt;duration&gt; [reason]');
    expect(text).toContain('Resources you may request: `batch`, `core-router`, `kube`, `prod-db`, `prod-ssh`');
  });

  test('cancelling someone else’s request is refused and audited; the request stays pending', async () => {
    const reply = await e2e.command(MALLORY.id, `cancel ${requestId}`);
    expect(String(reply.body.text)).toContain('Only the requester or an admin can cancel a request.');
    expect(await e2e.audit((ev) => ev.type === 'request.cancel_refused' && ev.actor.id === MALLORY.id)).toHaveLength(1);
    expect((await e2e.request(requestId)).state).toBe('pending');
    // The approval message still offers the buttons.
    expect(hasButton(e2e.fake.message(approval.channel, approval.ts) ?? {}, 'access.approve', requestId)).toBe(true);
    expect(messageText(e2e.fake.message(approval.channel, approval.ts) ?? {})).toMatch(/Waiting for approval/);
  });
});
