import { ALICE, APPROVALS_CHANNEL, BOB, CAROL, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { E2e, userSshKey } from './e2e-harness';

/**
 * What a new team types in its first hour, through the real Bolt app and the Slack fake: durations
 * as people write them, tickets in the one-line form, typos, a second request for what you already
 * hold, and break-glass where it cannot happen.
 */

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');
const carolKey = userSshKey('carol@laptop');

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS, env: { RATE_LIMIT_REQUESTS: '1000/1m' } });
  await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
  await e2e.command(CAROL.id, `key add ${carolKey.pub}`);
});

afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
  carolKey.remove();
});

beforeEach(() => e2e.closeOpenRequestsOf([ALICE.id, CAROL.id]));

const text = (reply: { body: Record<string, unknown> }) => String(reply.body.text);

describe('durations as people type them', () => {
  test.each([
    ['30m', 30 * 60_000],
    ['2h', 2 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['90m', 90 * 60_000],
    ['90 minutes', 90 * 60_000],
    ['1.5h', 90 * 60_000],
    ['2 hours', 2 * 3_600_000],
    ['an hour', 3_600_000],
    ['45min', 45 * 60_000],
  ])('`/access prod-ssh %s INC-7 …` asks for exactly that long, and the reason starts after it', async (duration, ms) => {
    const reply = await e2e.command(ALICE.id, `prod-ssh ${duration} INC-7 rotate the logs`);
    expect(text(reply)).toMatch(/waiting for approval/);
    const request = await e2e.latestRequestOf(ALICE.id);
    expect(request).toMatchObject({ resource: 'prod-ssh', requestedMs: ms, grantedMs: ms, reason: 'INC-7 rotate the logs' });
  });

  test('`1d` is read as a day (and refused here as over the 4h maximum, naming it)', async () => {
    const reply = await e2e.command(ALICE.id, 'prod-ssh 1d INC-7 rotate the logs');
    expect(text(reply)).toContain('1d is longer than the maximum of 4h for this resource.');
  });

  test.each([
    ['90 minuets', '`90 minuets` is not a duration I can read'],
    ['forever', 'Access is never open-ended'],
    ['3 servers', '`3 servers` is not a duration I can read'],
    ['1h30', '`1h30` is not a duration I can read'],
    ['hours', '`hours` is not a duration I can read'],
  ])('`/access prod-ssh %s …` is an error naming the accepted forms, and nothing is requested', async (duration, message) => {
    const before = (await e2e.ctx.store.listByRequester(ALICE.id, 500)).length;
    const reply = await e2e.command(ALICE.id, `prod-ssh ${duration} INC-7 fix stuff`);
    expect(text(reply)).toContain(message);
    expect(text(reply)).toContain('`30m`, `2h`, `1h30m`, `1d`, `90 minutes` or `1.5h` (at most 4h here)');
    expect((await e2e.ctx.store.listByRequester(ALICE.id, 500)).length).toBe(before);
  });

  test.each([
    ['0m', '`0m` is no time at all'],
    ['0 hours', '`0 hours` is no time at all'],
    ['-1h', '`-1h` is negative'],
  ])('a zero or negative duration (%s) is refused', async (duration, message) => {
    const reply = await e2e.command(ALICE.id, `prod-ssh ${duration} INC-7 fix stuff`);
    expect(text(reply)).toContain(message);
    expect(text(reply)).toContain('give a duration greater than zero');
  });

  test('`extend` reads the same forms', async () => {
    const bad = await e2e.command(ALICE.id, 'extend ar-0000000000 90 minuets more');
    expect(text(bad)).toContain('`90 minuets` is not a duration I can read');
  });
});

describe('tickets in the one-line form', () => {
  test('a ticket right after the duration is the ticket, and stays in the reason', async () => {
    const reply = await e2e.command(CAROL.id, 'prod-db 1h OPS-42 fix replica lag');
    expect(text(reply)).toMatch(/waiting for approval/);
    expect(await e2e.latestRequestOf(CAROL.id)).toMatchObject({ ticket: 'OPS-42', reason: 'OPS-42 fix replica lag', requestedMs: 3_600_000 });
  });

  test('a ticket anywhere in the reason, punctuation around it, is found; with no duration the default applies', async () => {
    const reply = await e2e.command(CAROL.id, 'prod-db fix replica lag (OPS-77), urgent');
    expect(text(reply)).toMatch(/waiting for approval/);
    expect(await e2e.latestRequestOf(CAROL.id)).toMatchObject({ ticket: 'OPS-77', requestedMs: 30 * 60_000 });
  });

  test('a workflow whose pattern has no hint never shows the regular expression', async () => {
    const reply = await e2e.command(CAROL.id, 'prod-db 1h no ticket here');
    expect(text(reply)).toContain('A ticket reference is required. The change ticket, e.g. OPS-42.');
    expect(text(reply)).not.toContain('[0-9]');
  });
});

describe('typos', () => {
  test.each([
    ['lsit', '/access list'],
    ['pendign', '/access pending'],
    ['prod-hss 1h INC-7 deploy', '/access prod-ssh 1h INC-7 deploy'],
    ['breakglass prod-shs INC-7 down', '/access breakglass prod-ssh INC-7 down'],
  ])('`/access %s` answers "did you mean `%s`?" instead of the whole help', async (typed, meant) => {
    const reply = await e2e.command(ALICE.id, typed);
    expect(text(reply)).toContain(`Did you mean \`${meant}\`?`);
    expect(text(reply)).not.toContain('/access key remove');
  });
});

describe('a second request for what you already hold', () => {
  test('points at the grant, shows the exact extend command, and its Extend button extends it', async () => {
    const first = await e2e.command(ALICE.id, 'staging-ssh 1h INC-8 look at cron');
    expect(text(first)).toMatch(/waiting for approval/);
    const grant = await e2e.latestRequestOf(ALICE.id);
    const approval = await e2e.approvalMessage(grant.id, APPROVALS_CHANNEL);
    await e2e.click(BOB.id, approval, 'access.approve', grant.id);
    await e2e.waitForState(grant.id, 'issued');

    const again = await e2e.command(ALICE.id, 'staging-ssh 2h INC-8 look at cron again');
    expect(text(again)).toContain(`You already have access to staging-ssh (${grant.id}`);
    expect(text(again)).toContain(`Extend it instead: \`/access extend ${grant.id} 2h\``);
    const blocks = JSON.stringify(again.body.blocks);
    expect(blocks).toContain('"action_id":"access.extend"');
    expect(blocks).toContain(`"value":"${grant.id} 2h"`);

    const respond = e2e.fake.responseUrl();
    // Clicked on the ephemeral reply: Slack sends the click with a response_url for that reply.
    const payload = e2e.slack.blockActionsPayload({ userId: ALICE.id, actions: [{ actionId: 'access.extend', value: `${grant.id} 2h` }] });
    const res = await e2e.slack.postInteraction({ ...payload, response_url: respond });
    expect(res.status).toBe(200);
    const answer = await e2e.fake.waitForResponse((r) => r.id === respond.split('/').at(-1), 10_000);
    expect(String(answer.body.text)).toMatch(/Extension `ar-\w+` of `ar-\w+` \(\*staging-ssh\*, 2h more\) is waiting for approval/);
    const extension = await e2e.latestRequestOf(ALICE.id);
    expect(extension.extension?.of).toBe(grant.id);
  });

  test('a pending request is pointed at with a Cancel button', async () => {
    await e2e.command(ALICE.id, 'prod-ssh 1h INC-9 read logs');
    const pending = await e2e.latestRequestOf(ALICE.id);
    const again = await e2e.command(ALICE.id, 'prod-ssh 2h INC-9 read logs');
    expect(text(again)).toContain(`You already have a pending request for prod-ssh (${pending.id})`);
    expect(JSON.stringify(again.body.blocks)).toContain(`"action_id":"access.cancel","value":"${pending.id}"`);
  });
});

describe('break-glass where it cannot happen', () => {
  test('on a workflow without break-glass: says so and how to request normally, whatever the reason says', async () => {
    const reply = await e2e.command(ALICE.id, 'breakglass prod-ssh INC-7 the site is down');
    expect(text(reply)).toContain('prod-ssh has no break-glass; request it normally with `/access prod-ssh &lt;duration&gt; &lt;reason&gt;`.');
  });

  test('with PagerDuty off: "break-glass needs PagerDuty, which is not connected"', async () => {
    const reply = await e2e.command(ALICE.id, 'breakglass core-router 30m INC-99 routers down');
    expect(text(reply)).toContain('Break-glass needs PagerDuty, which is not connected');
    expect(text(reply)).not.toContain('you are not');
  });
});
