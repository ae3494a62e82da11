import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually } from '../helpers/app';
import { ALICE, APPROVALS_CHANNEL, BOB, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { E2e, hasButton, messageText, userSshKey } from './e2e-harness';

/** The App Home, the subcommands of /access, and the resource picker past 100 resources. */

interface HomeBlock {
  type: string;
  block_id?: string;
  text?: { text: string };
  accessory?: { action_id: string; value: string };
  elements?: Array<{ action_id?: string; value?: string }>;
}

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');
let grantId: string;
let pendingId: string;

async function approve(requestId: string): Promise<void> {
  const message = await e2e.approvalMessage(requestId, APPROVALS_CHANNEL);
  await e2e.click(BOB.id, message, 'access.approve', requestId);
  await e2e.waitForState(requestId, 'issued');
}

async function submit(text: string): Promise<string> {
  const reply = await e2e.command(ALICE.id, text);
  expect(String(reply.body.text)).toMatch(/waiting for approval/);
  return (await e2e.latestRequestOf(ALICE.id)).id;
}

/** Opens the user's App Home (app_home_opened) and returns the blocks published. */
async function openHome(userId: string): Promise<HomeBlock[]> {
  const published = e2e.nextCall('views.publish', (c) => c.args.user_id === userId);
  const res = await e2e.slack.appHomeOpened(userId);
  expect(res.status).toBe(200);
  await published;
  return e2e.fake.homeView(userId)?.view.blocks as HomeBlock[];
}

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS });
  await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
  grantId = await submit('prod-ssh 2h INC-20 deploy hotfix');
  await approve(grantId);
  // Another resource: a person holds one open request per resource.
  pendingId = await submit('staging-ssh 30m INC-21 check cron');
});

afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
});

describe('App Home', () => {
  test('Alice’s Home shows her active access with time left and Revoke, and her pending request with Cancel', async () => {
    const blocks = await openHome(ALICE.id);
    const grant = blocks.find((b) => b.block_id === `home.grant.${grantId}`);
    expect(grant?.text?.text).toMatch(/\*prod-ssh\* · active · (2h|1h\d+m) left/);
    expect(grant?.accessory).toMatchObject({ action_id: 'access.revoke', value: grantId });
    const pending = blocks.find((b) => b.block_id === `home.pending.${pendingId}`);
    expect(pending?.text?.text).toContain('waiting for leads (@leads)');
    expect(pending?.accessory).toMatchObject({ action_id: 'access.cancel', value: pendingId });
    expect(JSON.stringify(blocks)).toContain('Nothing waiting for you');

    // "Request access" opens the request form.
    const form = e2e.nextCall('views.update', (c) => JSON.stringify(c.args.view).includes('"block_id":"resource"'));
    await e2e.clickInHome(ALICE.id, 'access.open_request', '');
    expect((await form).response.ok).toBe(true);
  });

  test('Bob’s Home shows the approval waiting for him; approving there decides it and refreshes his Home', async () => {
    const blocks = await openHome(BOB.id);
    const decide = blocks.find((b) => b.block_id === `home.decide.${pendingId}`);
    expect(decide?.elements?.map((e) => [e.action_id, e.value])).toEqual([
      ['access.approve', pendingId],
      ['access.deny', pendingId],
    ]);
    expect(JSON.stringify(blocks)).toContain('INC-21 check cron');

    const refreshed = e2e.nextCall('views.publish', (c) => c.args.user_id === BOB.id);
    await e2e.clickInHome(BOB.id, 'access.approve', pendingId);
    await refreshed;
    const after = JSON.stringify(e2e.fake.homeView(BOB.id)?.view.blocks);
    expect(after).toContain(`You approved \`${pendingId}\``);
    expect(after).not.toContain(`home.decide.${pendingId}`);
    await e2e.waitForState(pendingId, 'issued');
  });

  test('Alice revokes from her Home: the access ends, the Home says so, and the revocation is audited', async () => {
    const refreshed = e2e.nextCall('views.publish', (c) => c.args.user_id === ALICE.id);
    await e2e.clickInHome(ALICE.id, 'access.revoke', grantId);
    await refreshed;
    const home = JSON.stringify(e2e.fake.homeView(ALICE.id)?.view.blocks);
    expect(home).toContain(`Access \`${grantId}\``);
    expect(home).toContain('is revoked');
    expect(home).not.toContain(`home.grant.${grantId}`);
    expect(home).toContain(`home.grant.${pendingId}`);
    expect((await e2e.request(grantId)).state).toBe('revoked');
    expect(await e2e.audit((ev) => ev.type === 'request.revoked' && ev.requestId === grantId && ev.actor.id === ALICE.id)).toHaveLength(1);
    await eventually(() => e2e.messagesWith('was revoked by you', e2e.fake.dmChannelOf(ALICE.id))[0]);
  });

  test('Cancel on the requester’s DM withdraws the request; the notifier confirms by DM', async () => {
    const id = await submit('prod-ssh 15m INC-22 read logs');
    const dm = await eventually(() =>
      e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(ALICE.id) && hasButton(m, 'access.cancel', id)),
    );
    const since = e2e.fake.ephemerals.length;
    await e2e.click(ALICE.id, dm, 'access.cancel', id);
    await e2e.waitForState(id, 'cancelled');
    await eventually(() => e2e.messagesWith('was cancelled by you', dm.channel)[0]);
    expect(e2e.fake.ephemerals.slice(since)).toEqual([]);
  });
});

describe('/access subcommands', () => {
  test('`list` shows active access with time left, and recent requests', async () => {
    const reply = await e2e.command(ALICE.id, 'list');
    const text = messageText({ text: String(reply.body.text), blocks: reply.body.blocks as unknown[] });
    expect(reply.body.response_type).toBe('ephemeral');
    expect(text).toMatch(new RegExp(`\`${pendingId}\` · \\*staging-ssh\\* · 30m · active · (30m|2\\dm) left`));
    expect(text).toContain(`\`${grantId}\` · *prod-ssh* · 2h · revoked`);
  });

  test('`extend` asks for more time through the same workflow', async () => {
    const reply = await e2e.command(ALICE.id, `extend ${pendingId} 1h INC-21 still checking`);
    expect(String(reply.body.text)).toMatch(new RegExp(`Extension \`ar-[a-z0-9]+\` of \`${pendingId}\``));
    const extension = await e2e.latestRequestOf(ALICE.id);
    expect(extension).toMatchObject({ state: 'pending', resource: 'staging-ssh', extension: { of: pendingId }, grantedMs: 3_600_000 });
    await e2e.approvalMessage(extension.id, APPROVALS_CHANNEL);
  });

  test('`pending` lists what waits for the approver, with Approve and Deny', async () => {
    const extension = await e2e.latestRequestOf(ALICE.id);
    const reply = await e2e.command(BOB.id, 'pending');
    expect(String(reply.body.text)).toBe('1 waiting for your decision');
    const blocks = reply.body.blocks as HomeBlock[];
    expect(blocks.find((b) => b.block_id === `pending.decide.${extension.id}`)?.elements?.map((e) => e.action_id)).toEqual(['access.approve', 'access.deny']);
    expect(String((await e2e.command(ALICE.id, 'pending')).body.text)).toBe('Nothing is waiting for your decision.');
  });

  test('`cancel <id>` withdraws a pending request; `revoke <id>` ends access', async () => {
    const extension = await e2e.latestRequestOf(ALICE.id);
    expect(String((await e2e.command(ALICE.id, `cancel ${extension.id}`)).body.text)).toContain('is cancelled');
    expect((await e2e.request(extension.id)).state).toBe('cancelled');

    expect(String((await e2e.command(ALICE.id, `revoke ${pendingId}`)).body.text)).toMatch(/is revoked\. Its serial \d+ is on the revocation list: servers that fetch the KRL refuse the certificate within their refresh interval \(1m\)/);
    expect((await e2e.request(pendingId)).state).toBe('revoked');
    expect(String((await e2e.command(ALICE.id, `revoke ${pendingId}`)).body.text)).toContain('there is no active access to revoke');
    expect(String((await e2e.command(ALICE.id, 'cancel nonsense')).body.text)).toContain('is not a request id');
  });

  test('`key list` and `key remove`', async () => {
    const [key] = await e2e.ctx.keyService.list(ALICE.id);
    const list = await e2e.command(ALICE.id, 'key list');
    expect(messageText({ text: String(list.body.text), blocks: list.body.blocks as unknown[] })).toContain(key?.fingerprint);
    expect(String((await e2e.command(ALICE.id, `key remove ${key?.fingerprint}`)).body.text)).toContain('Removed key');
    expect(await e2e.ctx.keyService.list(ALICE.id)).toEqual([]);
    const after = await e2e.command(ALICE.id, 'prod-ssh 1h INC-23 no key now');
    expect(String(after.body.text)).toContain('Register a public key first');
  });
});

describe('more than 100 requestable resources', () => {
  test('the picker becomes an external_select whose options load as the person types', async () => {
    const resources = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [
        `bulk-${String(i).padStart(3, '0')}`,
        { description: `Bulk host ${i}`, workflow: 'bulk', duration: { default: '1h', max: '2h' }, ssh: { principals: ['bulk'] } },
      ]),
    );
    writeFileSync(
      join(String(e2e.app.env.WORKFLOWS_DIR), 'bulk.yaml'),
      stringify({ resources, workflows: { bulk: { requesters: { everyone: true }, stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }] } } }),
    );
    expect(await e2e.ctx.reloadPolicy('e2e')).toBe(true);

    const modal = await e2e.openRequestModal(ALICE.id);
    const picker = (modal.view.blocks as Array<{ block_id?: string; element?: { type: string; option_groups?: unknown } }>).find((b) => b.block_id === 'resource');
    expect(picker?.element?.type).toBe('external_select');
    expect(picker?.element?.option_groups).toBeUndefined();

    const res = await e2e.slack.blockSuggestion({ userId: ALICE.id, actionId: 'resource_select', blockId: 'resource', value: 'bulk-05', view: { id: modal.id, callbackId: 'access.request' } });
    expect(res.status).toBe(200);
    const body = res.json<{ option_groups: Array<{ label: { text: string }; options: Array<{ value: string }> }> }>();
    expect(body.option_groups.map((g) => g.label.text)).toEqual(['bulk']);
    expect(body.option_groups[0]?.options.map((o) => o.value)).toEqual(Array.from({ length: 10 }, (_, i) => `bulk-05${i}`));

    const all = await e2e.slack.blockSuggestion({ userId: ALICE.id, actionId: 'resource_select', blockId: 'resource', value: '' });
    const count = all.json<{ option_groups: Array<{ options: unknown[] }> }>().option_groups.reduce((n, g) => n + g.options.length, 0);
    expect(count).toBe(100);

    const form = await e2e.chooseResource(ALICE.id, modal, 'bulk-057');
    expect(JSON.stringify(form.view.blocks)).toContain('Bulk host 57');
    expect(JSON.parse(String(form.view.private_metadata))).toMatchObject({ resource: 'bulk-057' });
  });
});
