import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import express from 'express';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { AccessBotError } from '../../src/errors/access-bot-error';
import { captureRawBody, createHttpServer, rawBodyOf, type HttpServer, type Readiness } from '../../src/http/http-server';
import { createLogger, silentLogger } from '../../src/log/logger';
import { SlackApiError } from '../../src/slack/errors/slack-api-error';
import { SlackAuthError } from '../../src/slack/errors/slack-auth-error';
import { SlackTransportConfigError } from '../../src/slack/errors/slack-transport-config-error';
import { createSlackApp, SLACK_EVENTS_PATH, type SlackTransport } from '../../src/slack/slack-transport';
import { RedisReplayLedger, type ReplayLedger } from '../../src/slack/slack-replay-ledger';
import type { SignatureRefusal } from '../../src/slack/slack-signature-guard';
import { AppContext } from '../../src/app/app-context';
import { startBotProcess } from '../../src/app/bot-process';
import { loadEnv } from '../../src/config/env';
import { createSlackIntegration } from '../../src/slack/slack-integration';
import { FakeSlackApi } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { testRedis } from '../helpers/redis';
import { SlackRequests, slackSignature } from '../helpers/slack-requests';
import { E2e, SIGNING_SECRET as E2E_SIGNING_SECRET, userSshKey } from './e2e-harness';
import { ALICE as E2E_ALICE, USERGROUPS as E2E_USERGROUPS, USERS as E2E_USERS, WORKFLOWS as E2E_WORKFLOWS } from './e2e-fixtures';

const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
const logger = silentLogger();

// Accepted signed requests are remembered in Redis (issue 7, item 10): one prefix for this file.
const ledgerRedis = testRedis('slack-replays');
const replays: ReplayLedger = new RedisReplayLedger(ledgerRedis.redis, ledgerRedis.keys);
afterAll(() => ledgerRedis.cleanup());

const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Liddell', tz: 'Europe/Paris', groups: ['S0SRE'] };
const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Builder', tz: 'America/New_York' };

class TestRefusal extends AccessBotError {
  readonly code = 'TEST_REFUSED';
  override readonly status = 403;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface Harness {
  fake: FakeSlackApi;
  http: HttpServer;
  transport: SlackTransport;
  slack: SlackRequests;
  base: string;
  /** Every refusal the guard reported, in order. */
  refusals: SignatureRefusal[];
}

async function startHarness(
  fake: FakeSlackApi,
  apiUrl: string,
  readiness: () => Promise<Readiness>,
  start = true,
  options: { replays?: ReplayLedger; logger?: typeof logger } = {},
): Promise<Harness> {
  const http = createHttpServer({ logger, readiness });
  const refusals: SignatureRefusal[] = [];
  const transport = createSlackApp({
    botToken: fake.token,
    signingSecret: SIGNING_SECRET,
    apiUrl,
    logger: options.logger ?? logger,
    httpServer: http,
    retryConfig: { retries: 0 },
    replays: options.replays ?? replays,
    onSignatureRefused: (reason) => refusals.push(reason),
  });
  const { port } = await http.listen(0, '127.0.0.1');
  if (start) await transport.start();
  const base = `http://127.0.0.1:${port}`;
  const slack = new SlackRequests({
    url: `${base}${SLACK_EVENTS_PATH}`,
    signingSecret: SIGNING_SECRET,
    teamId: fake.teamId,
    botUserId: fake.botUserId,
    newTriggerId: (userId) => fake.newTriggerId({ userId }),
  });
  return { fake, http, transport, slack, base, refusals };
}

describe('Slack transport in HTTP mode, on our express server, against the fake Web API', () => {
  const fake = new FakeSlackApi({ users: [ALICE, BOB], usergroups: [{ id: 'S0SRE', handle: 'sre', members: [BOB.id] }] });
  let h: Harness;
  let readiness: Readiness = { ready: true, checks: { redis: 'ok' } };
  const commandsSeen: string[] = [];
  const actionsSeen: Array<{ user: string; value: string | undefined }> = [];
  const closedViews: string[] = [];
  const retriesSeen: Array<{ retryNum: number | undefined; retryReason: string | undefined }> = [];
  const slowGate = deferred();

  beforeAll(async () => {
    const apiUrl = await fake.start();
    h = await startHarness(fake, apiUrl, async () => readiness, false);
    const { app } = h.transport;

    app.command('/access', async ({ ack, command, client }) => {
      commandsSeen.push(command.text);
      if (command.text === 'boom') throw new Error('handler failed before ack');
      await ack();
      if (command.text === 'slow') await slowGate.promise;
      if (command.text === 'modal') {
        await client.views.open({
          trigger_id: command.trigger_id,
          view: { type: 'modal', callback_id: 'request_modal', title: { type: 'plain_text', text: 'Request access' }, blocks: [] },
        });
        return;
      }
      const dm = await client.conversations.open({ users: command.user_id });
      await client.chat.postMessage({ channel: dm.channel?.id ?? '', text: `got ${command.text}` });
    });

    app.action('approve', async ({ ack, body, action, client }) => {
      await ack();
      const value = action.type === 'button' ? action.value : undefined;
      actionsSeen.push({ user: body.user.id, value });
      if (body.type === 'block_actions' && body.container.type === 'message') {
        await client.chat.update({
          channel: String(body.container.channel_id),
          ts: String(body.container.message_ts),
          text: `Approved by <@${body.user.id}>`,
          blocks: [],
        });
      }
    });

    app.view('request_modal', async ({ ack, view }) => {
      const reason = view.state.values.reason?.reason_input?.value;
      if (!reason || reason.length < 10) {
        await ack({ response_action: 'errors', errors: { reason: 'Say why you need access (10 characters or more)' } });
        return;
      }
      await ack();
    });

    app.view({ callback_id: 'request_modal', type: 'view_closed' }, async ({ ack, view }) => {
      await ack();
      closedViews.push(view.id);
    });

    app.options<'block_suggestion'>({ action_id: 'resource_select' }, async ({ ack, options }) => {
      const all = ['prod-db', 'prod-k8s', 'staging-db'];
      await ack({
        options: all.filter((r) => r.includes(options.value)).map((r) => ({ text: { type: 'plain_text', text: r }, value: r })),
      });
    });

    app.event('app_home_opened', async ({ event, client, context }) => {
      retriesSeen.push({ retryNum: context.retryNum, retryReason: context.retryReason });
      await client.views.publish({
        user_id: event.user,
        view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'No active grants' } }] },
      });
    });

    const hooks = express.Router();
    hooks.post('/', ...captureRawBody({ limit: '1kb' }), (req, res) => {
      const raw = rawBodyOf(req);
      res.json({ hmac: createHmac('sha256', 'webhook-secret').update(raw).digest('hex'), length: raw.length });
    });
    h.http.mount('/webhooks/test', hooks);
    const failing = express.Router();
    failing.get('/refused', () => {
      throw new TestRefusal('You may not do that');
    });
    failing.get('/crash', () => {
      throw new Error('database password is hunter2 at /srv/app/src/db.ts:42');
    });
    h.http.mount('/failing', failing);

    await h.transport.start();
  });

  afterAll(async () => {
    slowGate.resolve();
    await h.transport.stop();
    await h.http.close();
    await fake.stop();
  });

  test('start() checks the bot token with auth.test on the configured API URL', () => {
    const [authTest] = fake.calls('auth.test');
    expect(authTest?.token).toBe(fake.token);
    expect(authTest?.response).toMatchObject({ ok: true, user_id: fake.botUserId });
    expect(h.transport.mode).toBe('http');
    expect(h.transport.isRunning()).toBe(true);
  });

  test('a signed slash command reaches the handler, which acks and then posts through the Web API', async () => {
    const res = await h.slack.slashCommand({ userId: ALICE.id, text: 'list' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    const post = await fake.waitForCall('chat.postMessage', (c) => c.args.text === 'got list');
    expect(post.token).toBe(fake.token);
    expect(post.args.channel).toBe(fake.dmChannelOf(ALICE.id));
    expect(post.response).toMatchObject({ ok: true, channel: fake.dmChannelOf(ALICE.id) });
    expect(fake.messages.find((m) => m.text === 'got list')?.channel).toBe(fake.dmChannelOf(ALICE.id));
  });

  test('the ack answers Slack while the handler is still working (processBeforeResponse off)', async () => {
    const res = await h.slack.slashCommand({ userId: ALICE.id, text: 'slow' });
    expect(res.status).toBe(200);
    expect(commandsSeen).toContain('slow');
    expect(fake.calls('chat.postMessage').some((c) => c.args.text === 'got slow')).toBe(false);

    slowGate.resolve();
    await fake.waitForCall('chat.postMessage', (c) => c.args.text === 'got slow');
  });

  test('a handler that fails before ack answers 500, so Slack shows the user an error', async () => {
    const res = await h.slack.slashCommand({ userId: ALICE.id, text: 'boom' });
    expect(res.status).toBe(500);
  });

  test('a block_actions payload reaches the action handler, which updates the message in place', async () => {
    const posted = await h.transport.app.client.chat.postMessage({ channel: 'C0APPROVALS', text: 'Alice asks for prod-db' });
    const ts = String(posted.ts);

    const res = await h.slack.blockActions({
      userId: BOB.id,
      channelId: 'C0APPROVALS',
      messageTs: ts,
      actions: [{ actionId: 'approve', value: 'req-42' }],
    });
    expect(res.status).toBe(200);
    expect(actionsSeen).toContainEqual({ user: BOB.id, value: 'req-42' });

    await fake.waitForCall('chat.update', (c) => c.args.ts === ts);
    expect(fake.message('C0APPROVALS', ts)).toMatchObject({ text: `Approved by <@${BOB.id}>`, updates: 1 });
  });

  test.each([
    ['a forged (wrong secret)', 'forged' as const],
    ['a stale (timestamp 6 minutes old)', 'stale' as const],
    ['an unsigned', 'unsigned' as const],
  ])('%s request is refused with 401 and no handler runs', async (_label, signing) => {
    const text = `refused-${signing}`;
    const res = await h.slack.slashCommand({ userId: ALICE.id, text }, { signing });
    expect(res.status).toBe(401);
    expect(commandsSeen).not.toContain(text);
    expect(fake.calls('chat.postMessage').some((c) => c.args.text === `got ${text}`)).toBe(false);
  });

  test('a tampered body with the original signature is refused with 401', async () => {
    const form = new URLSearchParams(h.slack.slashCommandForm({ userId: ALICE.id, text: 'tampered' })).toString();
    const ts = Math.floor(Date.now() / 1000);
    const signature = slackSignature(SIGNING_SECRET, ts, form);
    const res = await fetch(`${h.base}${SLACK_EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
      body: form.replace('tampered', 'tampereX'),
    });
    expect(res.status).toBe(401);
    expect(commandsSeen).not.toContain('tampereX');
  });

  test('a correctly signed request sent again is refused with 401 as replayed, and its handler runs once', async () => {
    const body = new URLSearchParams(h.slack.slashCommandForm({ userId: ALICE.id, text: 'replayed-once' })).toString();
    const timestampSec = Math.floor(Date.now() / 1000);
    const first = await h.slack.post(body, 'application/x-www-form-urlencoded', { timestampSec });
    expect(first.status).toBe(200);
    const again = await h.slack.post(body, 'application/x-www-form-urlencoded', { timestampSec });
    expect(again.status).toBe(401);
    expect(again.json()).toEqual({ error: 'SIGNATURE_REPLAYED', message: 'This signed Slack request was already received.' });
    expect(h.refusals.at(-1)).toBe('replayed');
    expect(commandsSeen.filter((t) => t === 'replayed-once')).toHaveLength(1);
    // The pair is remembered for longer than the two-sided window it could be accepted in.
    const ttl = await ledgerRedis.redis.ttl(ledgerRedis.keys.delivery('slack', `${timestampSec}:${slackSignature(SIGNING_SECRET, timestampSec, body).slice(3)}`));
    expect(ttl).toBeGreaterThan(600);
  });

  test('a forged request is not remembered: the genuine one signed for the same moment still gets through', async () => {
    const body = new URLSearchParams(h.slack.slashCommandForm({ userId: ALICE.id, text: 'genuine-after-forgery' })).toString();
    const timestampSec = Math.floor(Date.now() / 1000);
    expect((await h.slack.post(body, 'application/x-www-form-urlencoded', { timestampSec, signing: 'forged' })).status).toBe(401);
    expect(h.refusals.at(-1)).toBe('signature mismatch');
    expect((await h.slack.post(body, 'application/x-www-form-urlencoded', { timestampSec })).status).toBe(200);
    expect(commandsSeen).toContain('genuine-after-forgery');
  });

  test('url_verification answers the challenge', async () => {
    const res = await h.slack.urlVerification('challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ challenge: 'challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  test('a view_submission answered with response_action errors puts the errors in the HTTP response', async () => {
    const res = await h.slack.viewSubmission({
      userId: ALICE.id,
      view: { callbackId: 'request_modal', values: { reason: { reason_input: { type: 'plain_text_input', value: 'short' } } } },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ response_action: 'errors', errors: { reason: 'Say why you need access (10 characters or more)' } });

    const ok = await h.slack.viewSubmission({
      userId: ALICE.id,
      view: { callbackId: 'request_modal', values: { reason: { reason_input: { type: 'plain_text_input', value: 'incident INC-123 needs a look' } } } },
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
  });

  test('a view_closed payload reaches its handler', async () => {
    const res = await h.slack.viewClosed({ userId: ALICE.id, view: { id: 'V0CLOSED1', callbackId: 'request_modal' } });
    expect(res.status).toBe(200);
    expect(closedViews).toContain('V0CLOSED1');
  });

  test('an external_select options load (block_suggestion) gets the options in the HTTP response', async () => {
    const res = await h.slack.blockSuggestion({ userId: ALICE.id, actionId: 'resource_select', blockId: 'resource', value: 'prod' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      options: [
        { text: { type: 'plain_text', text: 'prod-db' }, value: 'prod-db' },
        { text: { type: 'plain_text', text: 'prod-k8s' }, value: 'prod-k8s' },
      ],
    });
  });

  test('a slash command trigger_id opens a modal once; the fake refuses it a second time', async () => {
    const triggerId = fake.newTriggerId({ userId: ALICE.id });
    const res = await h.slack.slashCommand({ userId: ALICE.id, text: 'modal', triggerId });
    expect(res.status).toBe(200);
    const open = await fake.waitForCall('views.open', (c) => c.args.trigger_id === triggerId);
    expect(open.response.ok).toBe(true);
    const view = fake.views.find((v) => v.id === (open.response.view as { id: string }).id);
    expect(view).toMatchObject({ type: 'modal', userId: ALICE.id, via: 'views.open' });

    await expect(
      h.transport.app.client.views.open({ trigger_id: triggerId, view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } }),
    ).rejects.toMatchObject({ data: { error: 'exchanged_trigger_id' } });
  });

  test('app_home_opened is acked at once and its handler publishes the Home tab', async () => {
    const res = await h.slack.appHomeOpened(BOB.id);
    expect(res.status).toBe(200);
    await fake.waitForCall('views.publish', (c) => c.args.user_id === BOB.id);
    expect(fake.homeView(BOB.id)?.view.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'No active grants' } }]);
  });

  test('a redelivered event reaches the handler with context.retryNum and retryReason from the headers', async () => {
    const before = fake.calls('views.publish').length;
    const res = await h.slack.appHomeOpened(ALICE.id, { retryNum: 2, retryReason: 'http_timeout' });
    expect(res.status).toBe(200);
    await fake.waitForCall('views.publish', (c) => c.args.user_id === ALICE.id);
    expect(fake.calls('views.publish').length).toBe(before + 1);
    expect(retriesSeen).toContainEqual({ retryNum: 2, retryReason: 'http_timeout' });
    expect(retriesSeen).toContainEqual({ retryNum: undefined, retryReason: undefined });
  });

  test('GET /healthz answers 200', async () => {
    const res = await fetch(`${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  test('GET /readyz follows the readiness callback', async () => {
    readiness = { ready: true, checks: { redis: 'ok', slack: 'ok' } };
    const up = await fetch(`${h.base}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ ready: true, checks: { redis: 'ok', slack: 'ok' } });

    readiness = { ready: false, checks: { redis: 'connection refused', slack: 'ok' } };
    const down = await fetch(`${h.base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ready: false, checks: { redis: 'connection refused', slack: 'ok' } });
    readiness = { ready: true, checks: { redis: 'ok' } };
  });

  test('a webhook route gets the exact raw bytes to verify its HMAC, beside Bolt on the same server', async () => {
    const body = '{"event":"issue_updated",  "spacing":"kept as sent","emoji":"\u00e9"}';
    const res = await fetch(`${h.base}/webhooks/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      hmac: createHmac('sha256', 'webhook-secret').update(Buffer.from(body)).digest('hex'),
      length: Buffer.byteLength(body),
    });

    const tooBig = await fetch(`${h.base}/webhooks/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2048) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
  });

  test('errors answer JSON: an AccessBotError with its status and code, anything else 500 with no details', async () => {
    const refused = await fetch(`${h.base}/failing/refused`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'TEST_REFUSED', message: 'You may not do that' });

    const crash = await fetch(`${h.base}/failing/crash`);
    expect(crash.status).toBe(500);
    const text = await crash.text();
    expect(JSON.parse(text)).toEqual({ error: 'INTERNAL', message: 'Internal error' });
    expect(text).not.toMatch(/hunter2|db\.ts/);
  });

  test('an unknown path, or GET on the Slack route, answers 404 JSON without internals', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/webhooks/unknown'],
      ['GET', SLACK_EVENTS_PATH],
    ] as const) {
      const res = await fetch(`${h.base}${path}`, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('NOT_FOUND');
      expect(JSON.stringify(body)).not.toMatch(/node_modules|at .*\(/);
    }
  });
});

describe('the fake Slack Web API, through the real @slack/web-api client', () => {
  const fake = new FakeSlackApi({
    users: [ALICE, BOB],
    usergroups: [
      { id: 'S0SRE', handle: 'sre', members: [BOB.id] },
      { id: 'S0DBA', handle: 'dba', members: [] },
    ],
  });
  let client: webApi.WebClient;
  let url: string;

  beforeAll(async () => {
    url = await fake.start();
    client = new webApi.WebClient(fake.token, { slackApiUrl: url, retryConfig: { retries: 0 }, logger: undefined, logLevel: webApi.LogLevel.ERROR });
  });
  afterAll(() => fake.stop());

  test('start() returns a base URL with a trailing slash', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  test('users.info and users.lookupByEmail return profile email, real name and time zone', async () => {
    const info = await client.users.info({ user: ALICE.id });
    expect(info.user).toMatchObject({ id: ALICE.id, name: 'alice', real_name: 'Alice Liddell', tz: 'Europe/Paris', profile: { email: 'alice@example.com' } });
    const found = await client.users.lookupByEmail({ email: 'BOB@example.com' });
    expect(found.user?.id).toBe(BOB.id);
    await expect(client.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    await expect(client.users.lookupByEmail({ email: 'nobody@example.com' })).rejects.toMatchObject({ data: { error: 'users_not_found' } });
  });

  test('user groups list their members, including users seeded with `groups`', async () => {
    const members = await client.usergroups.users.list({ usergroup: 'S0SRE' });
    expect(members.users?.sort()).toEqual([ALICE.id, BOB.id].sort());
    const list = await client.usergroups.list({ include_users: true });
    expect(list.usergroups?.map((g) => [g.handle, g.user_count])).toEqual([
      ['sre', 2],
      ['dba', 0],
    ]);
    fake.setUsergroupMembers('dba', [BOB.id]);
    expect((await client.usergroups.users.list({ usergroup: 'S0DBA' })).users).toEqual([BOB.id]);
    await expect(client.usergroups.users.list({ usergroup: 'S0NONE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });
  });

  test('messages: DM, post, update, thread reply, permalink, ephemeral and reaction', async () => {
    const dm = await client.conversations.open({ users: ALICE.id });
    expect(dm.channel?.id).toMatch(/^D/);
    const channel = dm.channel?.id ?? '';

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*prod-db* for 1h' } }];
    const posted = await client.chat.postMessage({ channel, text: 'pending', blocks });
    const ts = posted.ts ?? '';
    expect(posted.channel).toBe(channel);
    expect(fake.message(channel, ts)?.blocks).toEqual(blocks);

    await client.chat.update({ channel, ts, text: 'approved', blocks: [] });
    await client.chat.postMessage({ channel, thread_ts: ts, text: 'Bob approved' });
    expect(fake.message(channel, ts)).toMatchObject({ text: 'approved', blocks: [], updates: 1 });
    expect(fake.message(channel, ts)?.history.map((v) => v.text)).toEqual(['pending', 'approved']);
    expect(fake.messages.filter((m) => m.threadTs === ts).map((m) => m.text)).toEqual(['Bob approved']);

    const link = await client.chat.getPermalink({ channel, message_ts: ts });
    expect(link.permalink).toBe(`https://${fake.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`);

    const eph = await client.chat.postEphemeral({ channel: 'C0APPROVALS', user: BOB.id, text: 'You are not an approver of this stage' });
    expect(eph.message_ts).toBeDefined();
    expect(fake.ephemerals.at(-1)).toMatchObject({ channel: 'C0APPROVALS', user: BOB.id, text: 'You are not an approver of this stage' });

    await client.reactions.add({ channel, timestamp: ts, name: 'white_check_mark' });
    expect(fake.message(channel, ts)?.reactions).toEqual(['white_check_mark']);
    await expect(client.reactions.add({ channel, timestamp: ts, name: 'white_check_mark' })).rejects.toMatchObject({ data: { error: 'already_reacted' } });
    await expect(client.chat.update({ channel, ts: '1.000000', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
  });

  test('posting to a user id lands in the DM with that user', async () => {
    const posted = await client.chat.postMessage({ channel: BOB.id, text: 'your certificate' });
    expect(posted.channel).toBe(fake.dmChannelOf(BOB.id));
  });

  test('trigger ids are single use and expire after 3 s, like Slack', async () => {
    const modal = { type: 'modal' as const, callback_id: 'm', title: { type: 'plain_text' as const, text: 'Request' }, blocks: [] };
    const fresh = fake.newTriggerId({ userId: ALICE.id });
    const opened = await client.views.open({ trigger_id: fresh, view: modal });
    expect(opened.view?.id).toMatch(/^V/);
    await expect(client.views.open({ trigger_id: fresh, view: modal })).rejects.toMatchObject({ data: { error: 'exchanged_trigger_id' } });

    const old = fake.newTriggerId({ issuedAt: Date.now() - 3_500 });
    await expect(client.views.open({ trigger_id: old, view: modal })).rejects.toMatchObject({ data: { error: 'expired_trigger_id' } });
    await expect(client.views.open({ trigger_id: 'made.up.trigger', view: modal })).rejects.toMatchObject({ data: { error: 'invalid_trigger_id' } });

    const pushed = await client.views.push({ trigger_id: fake.newTriggerId({ userId: ALICE.id }), view: { ...modal, callback_id: 'deny_reason' } });
    expect(pushed.view?.previous_view_id).toBe(opened.view?.id);

    const viewId = opened.view?.id ?? '';
    const updated = await client.views.update({ view_id: viewId, hash: opened.view?.hash ?? '', view: { ...modal, private_metadata: 'req-1' } });
    expect(fake.view(viewId)?.view.private_metadata).toBe('req-1');
    await expect(client.views.update({ view_id: viewId, hash: opened.view?.hash ?? '', view: modal })).rejects.toMatchObject({
      data: { error: 'hash_conflict' },
    });
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
  });

  test('a wrong token gets invalid_auth, a missing one not_authed', async () => {
    const wrong = new webApi.WebClient('xoxb-wrong', { slackApiUrl: url, retryConfig: { retries: 0 } });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    const none = await fetch(`${url}auth.test`, { method: 'POST' });
    expect(await none.json()).toEqual({ ok: false, error: 'not_authed' });
    expect(fake.calls('auth.test').at(-1)?.token).toBeUndefined();
  });

  test('JSON bodies with a Bearer token work as well as form bodies', async () => {
    const res = await fetch(`${url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0JSON', text: 'json body', blocks: [{ type: 'divider' }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0JSON' });
    const call = fake.calls('chat.postMessage').at(-1);
    expect(call).toMatchObject({ contentType: 'application/json', token: fake.token, args: { blocks: [{ type: 'divider' }] } });

    await client.chat.postMessage({ channel: 'C0FORM', text: 'form body', blocks: [{ type: 'divider' }] });
    expect(fake.calls('chat.postMessage').at(-1)).toMatchObject({
      contentType: 'application/x-www-form-urlencoded',
      args: { channel: 'C0FORM', blocks: [{ type: 'divider' }] },
    });
  });

  test('an unknown method answers unknown_method and is recorded', async () => {
    await expect(client.apiCall('conversations.kick', { channel: 'C1', user: BOB.id })).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    expect(fake.calls('conversations.kick')).toHaveLength(1);
  });

  test('failNext: a rate limit answers 429 with Retry-After, then the method works again', async () => {
    fake.failNext('chat.postMessage', 'ratelimited', { retryAfterSec: 7 });
    const limited = await fetch(`${url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0X&text=hi',
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });

    fake.failNext('chat.postMessage', 'channel_not_found');
    const err: unknown = await client.chat.postMessage({ channel: 'C0GONE', text: 'hi' }).catch((e: unknown) => e);
    expect(SlackApiError.slackErrorOf(err)).toBe('channel_not_found');
    await expect(client.chat.postMessage({ channel: 'C0BACK', text: 'hi' })).resolves.toMatchObject({ ok: true });
  });

  test('waitForCall resolves on a later call and rejects with the calls seen when none comes', async () => {
    const waiting = fake.waitForCall('users.info', (c) => c.args.user === BOB.id);
    await client.users.info({ user: BOB.id });
    expect((await waiting).args.user).toBe(BOB.id);
    await expect(fake.waitForCall('views.publish', () => true, 50)).rejects.toThrow(/no matching views.publish call/);
  });
});

describe('Slack transport: modes, configuration and lifecycle', () => {
  const fake = new FakeSlackApi({ users: [ALICE], usergroups: [{ id: 'S0SRE', handle: 'sre' }] });
  let apiUrl: string;
  beforeAll(async () => {
    apiUrl = await fake.start();
  });
  afterAll(() => fake.stop());

  test('Socket Mode is chosen by an app token alone, does not mount /slack/events, and is offline until start()', async () => {
    const http = createHttpServer({ logger, readiness: async () => ({ ready: true, checks: {} }) });
    const callsBefore = fake.calls().length;
    const transport = createSlackApp({ botToken: fake.token, appToken: 'xapp-1-A0ACCESS-1-fake', apiUrl, logger, httpServer: http });
    expect(transport.mode).toBe('socket');
    const { port } = await http.listen(0, '127.0.0.1');
    try {
      const slack = new SlackRequests({ url: `http://127.0.0.1:${port}${SLACK_EVENTS_PATH}`, signingSecret: SIGNING_SECRET });
      const res = await slack.slashCommand({ userId: ALICE.id, text: 'list' });
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ error: 'NOT_FOUND' });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(fake.calls().length).toBe(callsBefore);
    } finally {
      await transport.stop();
      await http.close();
    }
  });

  test('a signing secret selects HTTP mode even when an app token is also set', async () => {
    const http = createHttpServer({ logger, readiness: async () => ({ ready: true, checks: {} }) });
    const transport = createSlackApp({ botToken: fake.token, signingSecret: SIGNING_SECRET, appToken: 'xapp-1-x', apiUrl, logger, httpServer: http, replays });
    expect(transport.mode).toBe('http');
    await transport.stop();
  });

  test('missing settings are refused at construction with a clear error', () => {
    expect(() => createSlackApp({ botToken: fake.token, logger })).toThrow(SlackTransportConfigError);
    expect(() => createSlackApp({ botToken: fake.token, logger })).toThrow(/SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/);
    expect(() => createSlackApp({ botToken: fake.token, signingSecret: SIGNING_SECRET, logger })).toThrow(/HTTP server/);
    const http = createHttpServer({ logger, readiness: async () => ({ ready: true, checks: {} }) });
    expect(() => createSlackApp({ botToken: fake.token, signingSecret: SIGNING_SECRET, logger, httpServer: http })).toThrow(/replay ledger/);
    expect(() => createSlackApp({ botToken: '', appToken: 'xapp-1-x', logger })).toThrow(/SLACK_BOT_TOKEN/);
  });

  test('a bot token Slack rejects fails start() with SLACK_AUTH_FAILED', async () => {
    const http = createHttpServer({ logger, readiness: async () => ({ ready: true, checks: {} }) });
    const transport = createSlackApp({ botToken: 'xoxb-revoked', signingSecret: SIGNING_SECRET, apiUrl, logger, httpServer: http, retryConfig: { retries: 0 }, replays });
    const err: unknown = await transport.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackAuthError);
    expect(err).toMatchObject({ code: 'SLACK_AUTH_FAILED', slackError: 'invalid_auth' });
    expect(transport.isRunning()).toBe(false);
    expect(fake.calls('auth.test').at(-1)).toMatchObject({ token: 'xoxb-revoked', response: { ok: false, error: 'invalid_auth' } });
  });

  test('before start() /slack/events answers 503, so Slack retries instead of losing the event', async () => {
    const h = await startHarness(fake, apiUrl, async () => ({ ready: true, checks: {} }), false);
    try {
      const res = await h.slack.appHomeOpened(ALICE.id);
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'SLACK_NOT_READY' });
    } finally {
      await h.transport.stop();
      await h.http.close();
    }
  });

  test('stop() waits for work still running after an ack, then the route refuses new requests', async () => {
    const h = await startHarness(fake, apiUrl, async () => ({ ready: true, checks: {} }));
    const gate = deferred();
    const acked = deferred();
    h.transport.app.command('/access', async ({ ack, client, command }) => {
      await ack();
      acked.resolve();
      await gate.promise;
      await client.chat.postMessage({ channel: command.user_id, text: 'finished after stop began' });
    });
    try {
      expect((await h.slack.slashCommand({ userId: ALICE.id, text: 'x' })).status).toBe(200);
      await acked.promise;
      let stopped = false;
      const stopping = h.transport.stop().then(() => {
        stopped = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(stopped).toBe(false);
      gate.resolve();
      await stopping;
      expect(fake.calls('chat.postMessage').some((c) => c.args.text === 'finished after stop began')).toBe(true);
      expect((await h.slack.slashCommand({ userId: ALICE.id, text: 'y' })).status).toBe(503);
    } finally {
      gate.resolve();
      await h.http.close();
    }
  });

  test('when the replay check cannot reach Redis, a signed request is refused with 503 (fail closed) and the log says so', async () => {
    const lines: string[] = [];
    const captured = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    // Nothing listens on port 1: every command fails (ioredis gives up after one retry).
    const down = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, retryStrategy: () => 50, lazyConnect: true });
    down.on('error', () => undefined);
    const h = await startHarness(fake, apiUrl, async () => ({ ready: true, checks: {} }), true, {
      replays: new RedisReplayLedger(down, ledgerRedis.keys, 1_000),
      logger: captured,
    });
    let ran = false;
    h.transport.app.command('/access', async ({ ack }) => {
      ran = true;
      await ack();
    });
    try {
      const res = await h.slack.slashCommand({ userId: ALICE.id, text: 'while redis is down' });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'SLACK_REPLAY_CHECK_UNAVAILABLE' });
      expect(ran).toBe(false);
      const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { code?: string } });
      expect(logged).toContainEqual(
        expect.objectContaining({ level: 50, msg: expect.stringMatching(/refused \(503\).*failing closed/), err: expect.objectContaining({ code: 'SLACK_REPLAY_CHECK_UNAVAILABLE' }) }),
      );
    } finally {
      await h.transport.stop();
      await h.http.close();
      down.disconnect();
    }
  });

  test('/readyz answers 503 when the readiness callback hangs or throws', async () => {
    let mode: 'hang' | 'throw' = 'hang';
    const http = createHttpServer({
      logger,
      readinessTimeoutMs: 50,
      readiness: () => (mode === 'hang' ? new Promise<Readiness>(() => undefined) : Promise.reject(new Error('redis exploded'))),
    });
    const { port } = await http.listen(0, '127.0.0.1');
    try {
      const hung = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(hung.status).toBe(503);
      expect(await hung.json()).toEqual({ ready: false, checks: { readiness: 'no answer within 50 ms' } });
      mode = 'throw';
      const threw = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(threw.status).toBe(503);
      expect(await threw.text()).not.toMatch(/exploded/);
    } finally {
      await http.close();
    }
  });

  test('http close() lets an in-flight request finish (Connection: close) and drops idle keep-alive sockets', async () => {
    const http = createHttpServer({ logger, readiness: async () => ({ ready: true, checks: {} }), shutdownGraceMs: 60_000 });
    const gate = deferred();
    const arrived = deferred();
    const slow = express.Router();
    slow.get('/', async (_req, res) => {
      arrived.resolve();
      await gate.promise;
      res.json({ done: true });
    });
    http.mount('/slow', slow);
    const { port } = await http.listen(0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        })
          .on('error', reject)
          .end();
      });
    try {
      // One idle keep-alive socket, and one request still running when close() starts.
      expect((await get('/healthz')).connection).toBe('keep-alive');
      const inFlight = get('/slow');
      await arrived.promise;
      let closed = false;
      const closing = http.close().then(() => {
        closed = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(closed).toBe(false);
      gate.resolve();
      const res = await inFlight;
      expect(res).toEqual({ status: 200, connection: 'close', body: JSON.stringify({ done: true }) });
      await closing;
    } finally {
      gate.resolve();
      agent.destroy();
      await http.close();
    }
  });
});

describe('docs/slack-app-manifest.yml', () => {
  const manifest = parseYaml(readFileSync(join(__dirname, '../../docs/slack-app-manifest.yml'), 'utf8')) as {
    features: { slash_commands: Array<{ command: string; url: string }>; app_home: Record<string, boolean> };
    oauth_config: { scopes: { bot: string[] } };
    settings: {
      event_subscriptions: { request_url: string; bot_events: string[] };
      interactivity: { is_enabled: boolean; request_url: string; message_menu_options_url: string };
      socket_mode_enabled: boolean;
    };
  };

  test('points the command, interactivity, options loads and events at the route the transport serves', () => {
    const urls = [
      ...manifest.features.slash_commands.map((c) => c.url),
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
      manifest.settings.interactivity.message_menu_options_url,
    ];
    for (const url of urls) expect(new URL(url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/access']);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  test('asks for the scopes of every Web API method the bot calls', () => {
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(
      ['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email', 'usergroups:read'].sort(),
    );
  });
});

describe('replayed signed requests (issue 7, item 10): each signed delivery is accepted once, across replicas', () => {
  let e2e: E2e;
  const key = userSshKey('alice@replay');
  const FORM = 'application/x-www-form-urlencoded';

  beforeAll(async () => {
    e2e = await E2e.start({ workflows: E2E_WORKFLOWS, users: E2E_USERS, usergroups: E2E_USERGROUPS });
    await e2e.command(E2E_ALICE.id, `key add ${key.pub}`);
  });
  afterAll(async () => {
    await e2e?.stop();
    key.remove();
  });

  /** A signed `/access` body exactly as Slack sent it once: the same bytes, timestamp and signature can be sent again. */
  function capturedCommand(text: string): { body: string; timestampSec: number; responseId: string } {
    const responseUrl = e2e.fake.responseUrl();
    const body = new URLSearchParams({ ...e2e.slack.slashCommandForm({ userId: E2E_ALICE.id, text }), response_url: responseUrl }).toString();
    return { body, timestampSec: Math.floor(Date.now() / 1000), responseId: responseUrl.split('/').at(-1) ?? '' };
  }

  async function requestsWithReason(reason: string) {
    const records = (await e2e.ctx.store.listByRequester(E2E_ALICE.id, 100)).filter((r) => r.reason === reason);
    const created = await e2e.audit((ev) => ev.type === 'request.created' && ev.data.reason === reason);
    return { records, created };
  }

  test('the same signed /access body sent twice makes one request; the replay answers 401 and is audited as replayed', async () => {
    const reason = 'INC-710 replayed command';
    const captured = capturedCommand(`prod-ssh 1h ${reason}`);
    const first = await e2e.slack.post(captured.body, FORM, { timestampSec: captured.timestampSec });
    expect(first.status).toBe(200);
    const replay = await e2e.slack.post(captured.body, FORM, { timestampSec: captured.timestampSec });
    expect(replay.status).toBe(401);
    expect(replay.json()).toMatchObject({ error: 'SIGNATURE_REPLAYED' });

    const reply = await e2e.fake.waitForResponse((r) => r.id === captured.responseId);
    expect(String(reply.body.text)).toMatch(/waiting for approval/);
    const { records, created } = await requestsWithReason(reason);
    expect(records).toHaveLength(1);
    expect(created).toHaveLength(1);
    const refused = await eventually(async () => {
      const found = await e2e.audit((ev) => ev.type === 'webhook.signature_refused' && ev.data.reason === 'replayed');
      return found.length ? found : undefined;
    });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: { id: 'unknown', via: 'slack' }, data: { source: 'slack', reason: 'replayed' } });
  });

  test('two bot replicas on one Redis prefix, sent the same signed body at once, accept it once', async () => {
    const ctx2 = await AppContext.create(loadEnv(e2e.app.env), silentLogger());
    const settings = ctx2.env.slack;
    if (!settings) throw new Error('Slack settings expected');
    const integration2 = createSlackIntegration(ctx2, settings);
    const bot2 = await startBotProcess(ctx2, [integration2.mount], 0);
    await integration2.start();
    try {
      const replica2 = new SlackRequests({ url: `http://127.0.0.1:${bot2.port}${SLACK_EVENTS_PATH}`, signingSecret: E2E_SIGNING_SECRET });
      // Alice holds one open request per resource: withdraw the previous test's first.
      await e2e.closeOpenRequestsOf([E2E_ALICE.id]);
      const reason = 'INC-711 replayed to two replicas';
      const captured = capturedCommand(`prod-ssh 1h ${reason}`);
      const answers = await Promise.all([
        e2e.slack.post(captured.body, FORM, { timestampSec: captured.timestampSec }),
        replica2.post(captured.body, FORM, { timestampSec: captured.timestampSec }),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);

      await e2e.fake.waitForResponse((r) => r.id === captured.responseId);
      const { records, created } = await requestsWithReason(reason);
      expect(records).toHaveLength(1);
      expect(created).toHaveLength(1);
    } finally {
      await integration2.stop();
      await bot2.stop();
      await ctx2.close();
    }
  });

  test('a Slack redelivery (new timestamp and signature, X-Slack-Retry-Num) is not a replay', async () => {
    const body = e2e.slack.eventCallbackBody({ type: 'app_home_opened', user: E2E_ALICE.id, channel: 'D0ALICE', tab: 'home' }, 'Ev0REDELIVER1');
    const raw = JSON.stringify(body);
    const now = Math.floor(Date.now() / 1000);
    const first = await e2e.slack.post(raw, 'application/json', { timestampSec: now - 1 });
    const retry = await e2e.slack.post(raw, 'application/json', { timestampSec: now, retryNum: 1, retryReason: 'http_timeout' });
    expect([first.status, retry.status]).toEqual([200, 200]);
  });
});
