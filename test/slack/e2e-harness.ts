import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../src/app/app-context';
import { startBotProcess, type BotProcess, type HttpMount } from '../../src/app/bot-process';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AuditEvent } from '../../src/audit/audit-event';
import type { AccessRequest } from '../../src/engine/types';
import { createLogger } from '../../src/log/logger';
import { SLACK_EVENTS_PATH } from '../../src/slack/slack-transport';
import { createSlackIntegration, type SlackIntegration } from '../../src/slack/slack-integration';
import { FakeSlackApi, type FakeSlackMessage, type FakeSlackResponse, type FakeSlackUser, type FakeSlackUsergroup, type FakeSlackView, type RecordedSlackCall } from '../fakes/slack-api';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { SlackRequests, type SlackHttpResponse, type SlackRequestOptions } from '../helpers/slack-requests';

/**
 * One access-bot as `access-bot start` runs it (the real Bolt app in HTTP mode on the bot's HTTP
 * server, the CA worker on BullMQ, Redis under a private prefix, a fresh CA), talking to the fake
 * Slack Web API, driven by signed requests like Slack's. Set E2E_LOG=debug to see the bot's log.
 */

export const SIGNING_SECRET = 'e2e-signing-secret-6c1f0d9e2b7a4c3d';

export interface E2eOptions {
  workflows: unknown;
  users: FakeSlackUser[];
  usergroups: FakeSlackUsergroup[];
  env?: Record<string, string>;
  /** Other integrations (PagerDuty…), set up after Slack's outgoing side and before the worker, as `access-bot start` does. */
  setup?: (ctx: AppContext) => Promise<{ mounts?: HttpMount[]; stop?: () => Promise<void> }>;
}

type Values = Record<string, Record<string, Record<string, unknown>>>;

export class E2e {
  private constructor(
    readonly app: TestApp,
    readonly fake: FakeSlackApi,
    readonly integration: SlackIntegration,
    readonly worker: WorkerProcess,
    readonly bot: BotProcess,
    readonly slack: SlackRequests,
  ) {}

  static async start(options: E2eOptions): Promise<E2e> {
    const fake = new FakeSlackApi({ users: options.users, usergroups: options.usergroups });
    const apiUrl = await fake.start();
    const level = process.env.E2E_LOG;
    const app = await testApp({
      workflows: options.workflows,
      env: {
        SLACK_BOT_TOKEN: fake.token,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: apiUrl,
        HOST: '127.0.0.1',
        WORKER_STALLED_CHECK: '1s',
        // Slack's tiers ten times over: the rate gate still paces every call, and a suite that posts
        // dozens of messages to one channel does not spend a minute at one post a second.
        SLACK_RATE_SCALE: '10',
        ...options.env,
      },
      ...(level ? { logger: createLogger({ level, name: 'e2e' }) } : {}),
    });
    const { ctx } = app;
    const settings = ctx.env.slack;
    if (!settings) throw new Error('the e2e env must turn Slack on');
    // The order of `access-bot start`: Slack's outgoing side first, then the worker, the bot, Slack's receiver.
    const integration = createSlackIntegration(ctx, settings);
    const extra = options.setup ? await options.setup(ctx) : {};
    const worker = await startWorkerProcess(ctx);
    const bot = await startBotProcess(ctx, [integration.mount, ...(extra.mounts ?? [])], 0);
    await integration.start();
    const slack = new SlackRequests({
      url: `http://127.0.0.1:${bot.port}${SLACK_EVENTS_PATH}`,
      signingSecret: SIGNING_SECRET,
      teamId: fake.teamId,
      botUserId: fake.botUserId,
      botId: fake.botId,
      apiAppId: fake.appId,
      newTriggerId: (userId) => fake.newTriggerId({ userId }),
    });
    const e2e = new E2e(app, fake, integration, worker, bot, slack);
    if (extra.stop) e2e.stopExtra = extra.stop;
    return e2e;
  }

  private stopExtra: (() => Promise<void>) | undefined;

  async stop(): Promise<void> {
    await this.stopExtra?.();
    await this.integration.stop();
    await this.bot.stop();
    await this.worker.stop();
    await this.app.cleanup();
    await this.fake.stop();
  }

  get ctx() {
    return this.app.ctx;
  }

  // ---- Slack calls the bot made --------------------------------------------------------------------

  /** Waits for a call of `method` made after this moment that matches. */
  nextCall(method: string, predicate: (call: RecordedSlackCall) => boolean = () => true, timeoutMs = 10_000): Promise<RecordedSlackCall> {
    const seen = new Set(this.fake.calls(method));
    return this.fake.waitForCall(method, (c) => !seen.has(c) && predicate(c), timeoutMs);
  }

  /** Every message (with its thread replies and DMs) whose text or blocks mention `needle`. */
  messagesWith(needle: string, channel?: string): FakeSlackMessage[] {
    return this.fake.messages.filter((m) => (channel === undefined || m.channel === channel) && messageText(m).includes(needle));
  }

  /** The approval message for a request in a channel or DM (not a thread reply). */
  async approvalMessage(requestId: string, channel: string): Promise<FakeSlackMessage> {
    return eventually(
      () => this.fake.messages.find((m) => m.channel === channel && m.threadTs === undefined && hasButton(m, 'access.approve', requestId)),
      10_000,
      `approval message for ${requestId} in ${channel}`,
    );
  }

  // ---- what people do in Slack -----------------------------------------------------------------------

  /** `/access <text>` with a response_url served by the fake; resolves with the bot's reply. */
  async command(userId: string, text: string, options: { triggerId?: string; channelId?: string } = {}): Promise<FakeSlackResponse> {
    const responseUrl = this.fake.responseUrl();
    const form = {
      ...this.slack.slashCommandForm({ userId, text, ...options }),
      response_url: responseUrl,
    };
    const res = await this.slack.post(new URLSearchParams(form).toString(), 'application/x-www-form-urlencoded');
    if (res.status !== 200) throw new Error(`/access ${text} answered ${res.status}: ${res.text}`);
    const id = responseUrl.split('/').at(-1);
    return this.fake.waitForResponse((r) => r.id === id, 10_000);
  }

  /** `/access` (or `/access <resource>`): resolves with the modal once its form replaced the loading view. */
  async openRequestModal(userId: string, text = ''): Promise<FakeSlackView> {
    const triggerId = this.fake.newTriggerId({ userId });
    const update = this.nextCall('views.update', (c) => JSON.stringify(c.args.view).includes('"resource"'));
    const res = await this.slack.slashCommand({ userId, text, triggerId });
    if (res.status !== 200) throw new Error(`/access answered ${res.status}`);
    const open = await this.fake.waitForCall('views.open', (c) => c.args.trigger_id === triggerId);
    const id = (open.response.view as { id: string }).id;
    const updated = await update;
    if (updated.args.view_id !== id) throw new Error('the form went to another view');
    return this.view(id);
  }

  view(id: string): FakeSlackView {
    const view = this.fake.view(id);
    if (!view) throw new Error(`no view ${id}`);
    return view;
  }

  /** Picks a resource in the modal (dispatch_action) and waits for the form to show its fields. */
  async chooseResource(userId: string, view: FakeSlackView, resource: string): Promise<FakeSlackView> {
    const update = this.nextCall('views.update', (c) => c.args.view_id === view.id);
    const res = await this.slack.blockActions({
      userId,
      actions: [{ actionId: 'resource_select', blockId: 'resource', type: 'static_select', selectedOption: { text: resource, value: resource } }],
      view: { id: view.id, callbackId: 'access.request', hash: view.hash, privateMetadata: String(view.view.private_metadata) },
    });
    if (res.status !== 200) throw new Error(`choosing a resource answered ${res.status}`);
    await update;
    return this.view(view.id);
  }

  /** Submits the request modal as Slack would, with the fields filled in. */
  submitRequestModal(
    userId: string,
    view: FakeSlackView,
    fields: { resource: string; duration?: string; reason?: string; ticket?: string; pubkey?: string; breakGlass?: boolean },
    options?: SlackRequestOptions,
  ): Promise<SlackHttpResponse> {
    const values: Values = {
      resource: { resource_select: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: fields.resource }, value: fields.resource } } },
      reason: { reason_input: { type: 'plain_text_input', value: fields.reason ?? null } },
    };
    if (fields.duration !== undefined)
      values.duration = { duration_select: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: fields.duration }, value: fields.duration } } };
    if (fields.ticket !== undefined) values.ticket = { ticket_input: { type: 'plain_text_input', value: fields.ticket } };
    if (fields.pubkey !== undefined) values.pubkey = { pubkey_input: { type: 'plain_text_input', value: fields.pubkey } };
    if (fields.breakGlass !== undefined)
      values.breakglass = {
        breakglass_toggle: {
          type: 'checkboxes',
          selected_options: fields.breakGlass ? [{ text: { type: 'plain_text', text: 'Break glass' }, value: 'yes' }] : [],
        },
      };
    return this.slack.viewSubmission(
      { userId, view: { id: view.id, callbackId: 'access.request', hash: view.hash, privateMetadata: String(view.view.private_metadata), values } },
      options,
    );
  }

  /** Clicks a button on a message. */
  click(userId: string, message: { channel: string; ts: string }, actionId: string, value: string, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.slack.blockActions({ userId, channelId: message.channel, messageTs: message.ts, actions: [{ actionId, value, blockId: 'access.decision' }] }, options);
  }

  /** Clicks a button in the user's App Home. */
  clickInHome(userId: string, actionId: string, value: string): Promise<SlackHttpResponse> {
    const home = this.fake.homeView(userId);
    return this.slack.blockActions({ userId, actions: [{ actionId, value }], view: { id: home?.id ?? 'V0HOME', type: 'home', hash: home?.hash ?? '' } });
  }

  // ---- state ------------------------------------------------------------------------------------------

  async request(id: string): Promise<AccessRequest> {
    const request = await this.ctx.store.get(id);
    if (!request) throw new Error(`no request ${id}`);
    return request;
  }

  async waitForState(id: string, state: AccessRequest['state'], timeoutMs = 10_000): Promise<AccessRequest> {
    return eventually(
      async () => {
        const r = await this.ctx.store.get(id);
        return r?.state === state ? r : undefined;
      },
      timeoutMs,
      `request ${id} to be ${state}`,
    );
  }

  /**
   * Cancels or revokes every open request of these people (as each of them would), so the next test
   * starts with none: a person holds one open request per resource.
   */
  async closeOpenRequestsOf(userIds: string[]): Promise<void> {
    for (const userId of userIds) {
      for (const r of await this.ctx.store.listByRequester(userId, 200)) {
        if (r.state === 'pending') await this.ctx.service.cancel(r.id, userId, 'slack', 'test cleanup');
        else if (r.state === 'approved' || r.state === 'issued') await this.ctx.service.revoke(r.id, userId, 'slack', 'test cleanup');
      }
    }
  }

  async latestRequestOf(userId: string): Promise<AccessRequest> {
    const [latest] = await this.ctx.store.listByRequester(userId, 1);
    if (!latest) throw new Error(`${userId} has no request`);
    return latest;
  }

  async audit(filter: (e: AuditEvent) => boolean = () => true): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    for await (const e of this.ctx.audit.read()) if (filter(e)) out.push(e);
    return out;
  }
}

/** Everything a person reads in a message: its text and every text in its blocks. */
export function messageText(m: { text?: string | undefined; blocks?: unknown[] | undefined }): string {
  return `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
}

export function hasButton(m: { blocks?: unknown[] | undefined }, actionId: string, value?: string): boolean {
  const json = JSON.stringify(m.blocks ?? []);
  return json.includes(`"action_id":"${actionId}"`) && (value === undefined || json.includes(`"value":"${value}"`));
}

/** Block ids of the `errors` answer to a view submission. */
export function viewErrors(res: SlackHttpResponse): Record<string, string> {
  const body = res.json<{ response_action?: string; errors?: Record<string, string> }>();
  if (body.response_action !== 'errors' || !body.errors) throw new Error(`expected response_action errors, got ${res.text}`);
  return body.errors;
}

/** A user's SSH key pair in a temp dir: `pub` is what they paste, `privatePath` what ssh uses. */
export function userSshKey(comment: string, type: 'ed25519' | 'rsa1024' = 'ed25519'): { dir: string; privatePath: string; pub: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-key-'));
  const privatePath = join(dir, 'id');
  const args = type === 'ed25519' ? ['-t', 'ed25519'] : ['-t', 'rsa', '-b', '1024'];
  execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', comment, '-f', privatePath]);
  return { dir, privatePath, pub: readFileSync(`${privatePath}.pub`, 'utf8').trim(), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The OpenSSH certificate line in a DM, as the requester would copy it. */
export function certificateIn(m: FakeSlackMessage): string | undefined {
  const text = messageText(m).replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return /((?:ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa)-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(text)?.[1];
}
