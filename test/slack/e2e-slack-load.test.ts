import { generateKeyPairSync } from 'node:crypto';
import { AppContext } from '../../src/app/app-context';
import { sshPublicKeyFromKeyObject } from '../../src/ca/ssh/ssh-public-key';
import { loadEnv } from '../../src/config/env';
import { silentLogger } from '../../src/log/logger';
import { createSlackOutbound } from '../../src/slack/slack-integration';
import type { RecordedSlackCall } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { ALICE, APPROVALS_CHANNEL, BOB, DAVE, USERGROUPS, USERS, WORKFLOWS } from './e2e-fixtures';
import { certificateIn, E2e, hasButton, messageText, userSshKey } from './e2e-harness';

/**
 * Incident-day load, as people see it: the certificate DM is not held up by a backlog of message
 * updates, DMs are opened once per person (across replicas too), the App Home costs nothing for
 * people who do not look at it, Slack's 429s are waited out and nothing is lost, and long lists
 * show their true totals a page at a time.
 */

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');
/** 130 engineers, for a Bob with more than 100 requests waiting (in the workspace from the start: group members are cached). */
const people = Array.from({ length: 130 }, (_, i) => ({ id: `U0P${String(i).padStart(4, '0')}`, name: `p${i}`, email: `p${i}@example.com`, groups: ['S0ENG'] }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // Paced at 100× Slack's tiers: the paging test posts 130 approval messages to one channel.
  e2e = await E2e.start({ workflows: WORKFLOWS, users: [...USERS, ...people], usergroups: USERGROUPS, env: { RATE_LIMIT_REQUESTS: '200/1m', SLACK_RATE_SCALE: '100' } });
  await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
});

afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
});

afterEach(async () => {
  await e2e.closeOpenRequestsOf([ALICE.id]);
});

async function submit(text: string, userId = ALICE.id): Promise<string> {
  const reply = await e2e.command(userId, text);
  expect(String(reply.body.text)).toMatch(/waiting for approval/);
  return (await e2e.latestRequestOf(userId)).id;
}

const isCertificateDm = (c: RecordedSlackCall, id: string) =>
  c.method === 'chat.postMessage' && c.args.channel === e2e.fake.dmChannelOf(ALICE.id) && JSON.stringify(c.args).includes(id) && JSON.stringify(c.args).includes('-cert-v01@openssh.com');

describe('certificates first', () => {
  test('the certificate DM arrives while every message update is still waiting out 429s; the updates land afterwards', async () => {
    const id = await submit('prod-ssh 1h INC-31 restart the stuck worker');
    const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    // Slack rate-limits chat.update: each of the next six calls is answered 429, Retry-After 2 s.
    for (let i = 0; i < 6; i++) e2e.fake.failNext('chat.update', 'ratelimited', { retryAfterSec: 2 });

    const clicked = Date.now();
    expect((await e2e.click(BOB.id, message, 'access.approve', id)).status).toBe(200);
    const dm = await e2e.fake.waitForCall('chat.postMessage', (c) => isCertificateDm(c, id), 15_000);
    const updatedYet = e2e.fake.calls('chat.update').filter((c) => c.status === 200 && c.at >= clicked);
    expect(updatedYet).toEqual([]);
    expect(e2e.fake.calls('chat.update').some((c) => c.status === 429)).toBe(true);

    // Nothing lost: every copy ends up saying who approved.
    await eventually(
      () => e2e.fake.messages.filter((m) => m.threadTs === undefined && hasButton({ blocks: m.history[0]?.blocks }, 'access.approve', id)).every((m) => messageText(m).includes('Approved')),
      20_000,
      'the copies updated',
    );
    expect(dm.at).toBeLessThan(Math.min(...e2e.fake.calls('chat.update').filter((c) => c.status === 200 && c.at >= clicked).map((c) => c.at)));
    expect(certificateIn(e2e.fake.messages.find((m) => m.channel === dm.args.channel && m.ts === dm.response.ts)!)).toBeDefined();
    // One DM per certificate, and it is audited as delivered once.
    expect(e2e.fake.calls('chat.postMessage').filter((c) => isCertificateDm(c, id) && c.status === 200)).toHaveLength(1);
    expect(await e2e.audit((e) => e.type === 'cert.delivered' && e.requestId === id)).toHaveLength(1);
  }, 60_000);

  test('the "approved" DM is left out when the certificate follows at once: the requester gets one DM, and it says who approved', async () => {
    const id = await submit('staging-ssh 1h INC-32 look at the queue');
    const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    await e2e.click(BOB.id, message, 'access.approve', id);
    await e2e.fake.waitForCall('chat.postMessage', (c) => isCertificateDm(c, id), 10_000);
    // The approval notice was due 10 s after the approval; by then the certificate had said it.
    const job = await e2e.ctx.deliveriesQueue.getJob(`deliver-approved-${id}`);
    expect(job).toBeDefined();
    await job!.promote();
    await eventually(async () => ((await job!.getState()) === 'completed' ? true : undefined), 10_000, 'the approval notice job');
    expect(await e2e.ctx.deliveriesQueue.getJob(`deliver-approved-${id}`).then((j) => j?.returnvalue)).toBe('skipped: request is issued');
    const dms = e2e.messagesWith(id, e2e.fake.dmChannelOf(ALICE.id)).filter((m) => m.threadTs === undefined);
    expect(dms.map((m) => messageText(m))).toEqual([expect.stringContaining('waiting for approval'), expect.stringContaining('approved by <@U0BOB>')]);
  }, 30_000);
});

describe('delivery that cannot succeed', () => {
  test('a certificate DM Slack refuses for good is audited as failed after its try, with the request still issued', async () => {
    const id = await submit('prod-ssh 1h INC-38 read the logs');
    const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    e2e.fake.failNext('chat.postMessage', 'user_not_found', {
      when: (a) => a.channel === e2e.fake.dmChannelOf(ALICE.id) && JSON.stringify(a).includes('-cert-v01@openssh.com'),
    });
    await e2e.click(BOB.id, message, 'access.approve', id);
    const [failed] = await eventually(
      async () => {
        const events = await e2e.audit((e) => e.type === 'external.failed' && e.requestId === id);
        return events.length > 0 ? events : undefined;
      },
      15_000,
      'the failed delivery audited',
    );
    expect(failed?.data).toMatchObject({ effect: 'notify_requester', notice: 'issued', error: expect.stringContaining('user_not_found') });
    expect((await e2e.request(id)).state).toBe('issued');
    expect(await e2e.audit((e) => e.type === 'cert.delivered' && e.requestId === id)).toEqual([]);
  }, 30_000);
});

describe('fewer calls', () => {
  test('a DM channel is opened once per person: the second request opens no conversation, in this bot or another replica', async () => {
    await submit('prod-ssh 1h INC-33 first of two');
    await e2e.closeOpenRequestsOf([ALICE.id]);
    const opensBefore = e2e.fake.calls('conversations.open').length;
    const id = await submit('prod-ssh 1h INC-34 second of two');
    await e2e.approvalMessage(id, e2e.fake.dmChannelOf(BOB.id));
    await eventually(() => e2e.messagesWith(id, e2e.fake.dmChannelOf(ALICE.id)).length > 0 || undefined, 10_000, 'the requester DM');
    expect(e2e.fake.calls('conversations.open').length).toBe(opensBefore);

    // A second replica (its own process memory, the same Redis): its first DM to Alice opens nothing either.
    const other = await AppContext.create(loadEnv({ ...e2e.app.env }), silentLogger());
    try {
      const settings = other.env.slack!;
      createSlackOutbound(other, settings);
      await other.notifier.direct(ALICE.id, 'hello from the other replica');
      expect(e2e.fake.calls('conversations.open').length).toBe(opensBefore);
      expect(e2e.messagesWith('hello from the other replica', e2e.fake.dmChannelOf(ALICE.id))).toHaveLength(1);
    } finally {
      await other.close();
    }
  }, 30_000);

  test('a click does not publish the clicker’s App Home unless they opened it; after changes it is published once, debounced', async () => {
    const id = await submit('prod-ssh 1h INC-35 check disk');
    const message = await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    // Dave never opened his App Home: approving costs no views.publish.
    await e2e.click(DAVE.id, message, 'access.approve', id);
    await e2e.waitForState(id, 'issued');
    await sleep(3_500);
    expect(e2e.fake.calls('views.publish').filter((c) => c.args.user_id === DAVE.id)).toEqual([]);

    // Alice opens hers (published at once), then makes two changes in a row: one publish follows, not two.
    const opened = e2e.nextCall('views.publish', (c) => c.args.user_id === ALICE.id);
    await e2e.slack.appHomeOpened(ALICE.id);
    await opened;
    const before = e2e.fake.calls('views.publish').filter((c) => c.args.user_id === ALICE.id).length;
    await e2e.command(ALICE.id, `revoke ${id}`);
    const second = await submit('staging-ssh 1h INC-36 second change');
    await sleep(4_500);
    const after = e2e.fake.calls('views.publish').filter((c) => c.args.user_id === ALICE.id);
    expect(after).toHaveLength(before + 1);
    expect(JSON.stringify(after.at(-1)?.args.view)).toContain(second);
  }, 40_000);
});

describe('rate limits', () => {
  test('a 429 on the approval post is retried after Retry-After, once, and the message is posted', async () => {
    e2e.fake.failNext('chat.postMessage', 'ratelimited', { retryAfterSec: 2, when: (a) => a.channel === APPROVALS_CHANNEL });
    const id = await submit('prod-ssh 1h INC-37 rotate logs');
    await e2e.approvalMessage(id, APPROVALS_CHANNEL);
    const tries = e2e.fake.calls('chat.postMessage').filter((c) => c.args.channel === APPROVALS_CHANNEL && JSON.stringify(c.args).includes(id) && c.args.thread_ts === undefined);
    // One 429, then one retry after the 2 s Slack asked for: no retries on top of retries.
    expect(tries.map((c) => c.status)).toEqual([429, 200]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(e2e.ctx.slackGate?.stats.rateLimits()['chat.postMessage']).toBeGreaterThanOrEqual(1);
    const metrics = await e2e.ctx.metrics.text();
    expect(metrics).toMatch(/access_bot_external_calls_total\{[^}]*service="slack"[^}]*method="chat.postMessage"[^}]*outcome="rate_limited"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/access_bot_slack_api_backlog(\{[^}]*\})? 0/);
    expect(metrics).toMatch(/access_bot_queue_jobs\{[^}]*queue="deliveries"/);
  }, 30_000);
});

describe('true counts with paging', () => {
  const keyLine = sshPublicKeyFromKeyObject(generateKeyPairSync('ed25519').publicKey, 'people');

  test('`/access pending` says 130 wait for Bob, shows 20 at a time, and the last page and the Next page button are right', async () => {
    for (let i = 0; i < people.length; i += 10)
      await Promise.all(
        people.slice(i, i + 10).map(async (p) => {
          await e2e.ctx.keyService.register(p.id, keyLine, 'slack');
          const r = await e2e.ctx.service.submit(p.id, { resource: 'staging-ssh', reason: 'INC-40 look at the batch', via: 'slack' });
          expect(r).toMatchObject({ status: 'ok' });
        }),
      );
    const first = await e2e.command(BOB.id, 'pending');
    expect(first.body.text).toBe('130 waiting for your decision');
    const firstText = JSON.stringify(first.body.blocks);
    expect(firstText).toContain('Showing 1–20 of 130');
    expect(firstText).toContain('"value":"pending 2"');
    expect((firstText.match(/"action_id":"access.approve"/g) ?? []).length).toBe(20);

    const last = await e2e.command(BOB.id, 'pending 7');
    const lastText = JSON.stringify(last.body.blocks);
    expect(lastText).toContain('Showing 121–130 of 130');
    expect(lastText).not.toContain('access.page');
    expect((lastText.match(/"action_id":"access.approve"/g) ?? []).length).toBe(10);

    expect(String((await e2e.command(BOB.id, 'pending 8')).body.text)).toContain('There is no page 8: 130 requests wait for your decision');
    expect(String((await e2e.command(BOB.id, 'pending two')).body.text)).toContain('is not a page number');

    // The Home counts them all too, once Bob looks.
    const published = e2e.nextCall('views.publish', (c) => c.args.user_id === BOB.id);
    await e2e.slack.appHomeOpened(BOB.id);
    await published;
    expect(JSON.stringify(e2e.fake.homeView(BOB.id)?.view.blocks)).toContain('Showing 15 of 130 waiting for you');
  }, 120_000);

  test('`/access list` pages through all of a person’s requests, newest first, with the true total', async () => {
    for (let i = 0; i < 22; i++) {
      const r = await e2e.ctx.service.submit(ALICE.id, { resource: 'staging-ssh', reason: `INC-5${i} try ${i}`, via: 'slack' });
      expect(r).toMatchObject({ status: 'ok' });
      if (r.status === 'ok') await e2e.ctx.service.cancel(r.request.id, ALICE.id, 'slack');
    }
    const total = await e2e.ctx.store.countByRequester(ALICE.id);
    expect(total).toBeGreaterThanOrEqual(22);
    const first = await e2e.command(ALICE.id, 'list');
    expect(JSON.stringify(first.body.blocks)).toContain(`Showing 1–20 of ${total}`);
    expect(JSON.stringify(first.body.blocks)).toContain('"value":"list 2"');
    // Newest first: the last request made is on page 1.
    expect(JSON.stringify(first.body.blocks)).toContain((await e2e.latestRequestOf(ALICE.id)).id);
    const lastPage = Math.ceil(total / 20);
    const last = await e2e.command(ALICE.id, `list ${lastPage}`);
    expect(JSON.stringify(last.body.blocks)).toContain(`of ${total}`);
    expect(JSON.stringify(last.body.blocks)).not.toContain('access.page');
  }, 60_000);

  test('the Next page button replaces the reply with the next page', async () => {
    const responseUrl = e2e.fake.responseUrl();
    const payload = {
      ...e2e.slack.blockActionsPayload({ userId: BOB.id, actions: [{ actionId: 'access.page', value: 'pending 2', blockId: 'page.pending' }], channelId: 'C0GENERAL' }),
      response_url: responseUrl,
    };
    expect((await e2e.slack.postInteraction(payload)).status).toBe(200);
    const id = responseUrl.split('/').at(-1);
    const reply = await e2e.fake.waitForResponse((r) => r.id === id, 10_000);
    expect(reply.body.replace_original).toBe(true);
    expect(JSON.stringify(reply.body.blocks)).toContain('Showing 21–40 of 130');
    expect(JSON.stringify(reply.body.blocks)).toContain('"value":"pending 3"');
  }, 30_000);
});
