import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseApiRequest } from './slack/parse-api-request';

/**
 * A loopback fake of the Slack Web API (https://slack.com/api/<method>). Point the app's
 * SLACK_API_URL / `apiUrl` at start()'s URL. It answers like Slack (HTTP 200 with `ok: false` and
 * Slack's error strings, 429 with Retry-After for rate limits), keeps enough state for the methods
 * access-bot uses, and records every call, including refused and unknown ones.
 */

export interface FakeSlackUser {
  id: string;
  name: string;
  email: string;
  realName?: string;
  /** IANA zone, e.g. `Europe/Paris`. Default `UTC`. */
  tz?: string;
  /** User group ids or handles this user belongs to (added to those groups' members). */
  groups?: string[];
  isBot?: boolean;
  deleted?: boolean;
  /** Slack's `is_email_confirmed`; default true (what most workspaces show for members). */
  emailConfirmed?: boolean;
  /** Single-channel (`ultra`) or multi-channel (`restricted`) guest. */
  guest?: 'restricted' | 'ultra';
}

export interface FakeSlackUsergroup {
  id: string;
  handle: string;
  name?: string;
  members?: string[];
}

export interface FakeSlackApiOptions {
  /** The only token accepted; anything else gets `invalid_auth`. */
  token?: string;
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  users?: FakeSlackUser[];
  usergroups?: FakeSlackUsergroup[];
  /** Slack's trigger lifetime: 3 s. */
  triggerTtlMs?: number;
}

export interface RecordedSlackCall {
  method: string;
  /** Arguments as Slack reads them: JSON-encoded form fields (blocks, view…) decoded; `token` removed. */
  args: Record<string, unknown>;
  /** Epoch ms when the call arrived. */
  at: number;
  token: string | undefined;
  contentType: string;
  /** What the fake answered. */
  status: number;
  response: Record<string, unknown>;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  threadTs: string | undefined;
  metadata: unknown;
  /** How many chat.update calls changed it. */
  updates: number;
  reactions: string[];
  /** Every version, oldest first (the current one last). */
  history: Array<{ text: string | undefined; blocks: unknown[] | undefined; at: number }>;
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  threadTs: string | undefined;
  messageTs: string;
}

export interface FakeSlackView {
  id: string;
  hash: string;
  type: string;
  /** The full view as Slack returns it (the app's view plus id, hash, state…). */
  view: Record<string, unknown>;
  userId: string | undefined;
  externalId: string | undefined;
  /** views.open, views.push, views.update or views.publish: the last call that set it. */
  via: string;
}

/** A message an app POSTed to a response_url (slash command or interaction answer). */
export interface FakeSlackResponse {
  /** The id in the URL responseUrl() made. */
  id: string;
  /** The JSON the app sent: text, blocks, response_type, replace_original… */
  body: Record<string, unknown>;
  at: number;
}

export interface FailureOptions {
  /** HTTP status; default 429 for `ratelimited`, else 200 (Slack reports errors in the body). */
  status?: number;
  /** Retry-After seconds sent with a 429; default 1. */
  retryAfterSec?: number;
  /** Only a call whose arguments match fails (e.g. `(a) => a.channel === 'C0APPROVE'`); other calls pass it by. */
  when?: (args: Record<string, unknown>) => boolean;
}

interface PendingFailure extends FailureOptions {
  error: string;
}

interface TriggerRecord {
  issuedAt: number;
  exchanged: boolean;
  userId: string | undefined;
}

interface CallWaiter {
  method: string;
  predicate: (call: RecordedSlackCall) => boolean;
  resolve: (call: RecordedSlackCall) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class SlackFailure extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

type MethodResult = Record<string, unknown>;
type MethodHandler = (args: Record<string, unknown>) => MethodResult;

function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function required(args: Record<string, unknown>, key: string): string {
  const value = stringArg(args, key);
  if (value === undefined) throw new SlackFailure('invalid_arguments');
  return value;
}

function blocksArg(args: Record<string, unknown>): unknown[] | undefined {
  const blocks = args.blocks;
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) throw new SlackFailure('invalid_blocks');
  return blocks;
}

/**
 * Slack refuses a message whose blocks break Block Kit's limits with `invalid_blocks`: at most 50
 * blocks, section text up to 3000 characters, up to 10 fields of 2000, header text up to 150.
 */
function checkMessageBlocks(blocks: unknown[] | undefined): void {
  if (blocks === undefined) return;
  if (blocks.length > 50) throw new SlackFailure('invalid_blocks');
  const textOf = (value: unknown): string | undefined => {
    if (typeof value !== 'object' || value === null) return undefined;
    const text = (value as { text?: unknown }).text;
    return typeof text === 'string' ? text : undefined;
  };
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) throw new SlackFailure('invalid_blocks');
    const { type, text, fields } = block as { type?: unknown; text?: unknown; fields?: unknown };
    if (type === 'section') {
      if ((textOf(text)?.length ?? 0) > 3000) throw new SlackFailure('invalid_blocks');
      if (Array.isArray(fields) && (fields.length > 10 || fields.some((f) => (textOf(f)?.length ?? 0) > 2000)))
        throw new SlackFailure('invalid_blocks');
    }
    if (type === 'header' && (textOf(text)?.length ?? 0) > 150) throw new SlackFailure('invalid_blocks');
  }
}

function viewArg(args: Record<string, unknown>): Record<string, unknown> {
  const view = args.view;
  if (typeof view !== 'object' || view === null || Array.isArray(view)) throw new SlackFailure('invalid_arguments');
  return view as Record<string, unknown>;
}

function booleanArg(args: Record<string, unknown>, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

export class FakeSlackApi {
  readonly token: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;

  private readonly triggerTtlMs: number;
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly usergroups = new Map<string, FakeSlackUsergroup>();
  private readonly recorded: RecordedSlackCall[] = [];
  private readonly waiters = new Set<CallWaiter>();
  private readonly failures = new Map<string, PendingFailure[]>();
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly messageStore = new Map<string, FakeSlackMessage>();
  private readonly ephemeralStore: FakeSlackEphemeral[] = [];
  private readonly viewStore = new Map<string, FakeSlackView>();
  private readonly homeViewStore = new Map<string, FakeSlackView>();
  private readonly delays = new Map<string, Array<{ ms: number; when?: (args: Record<string, unknown>) => boolean }>>();
  private readonly responseIds = new Set<string>();
  private readonly responseStore: FakeSlackResponse[] = [];
  private readonly responseWaiters = new Set<{ predicate: (r: FakeSlackResponse) => boolean; resolve: (r: FakeSlackResponse) => void }>();
  private readonly handlers: Record<string, MethodHandler>;
  private server: Server | undefined;
  private sequence = 0;

  constructor(options: FakeSlackApiOptions = {}) {
    this.token = options.token ?? 'xoxb-fake-bot-token';
    this.teamId = options.teamId ?? 'T0FAKE';
    this.teamDomain = options.teamDomain ?? 'fake-workspace';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.appId = options.appId ?? 'A0ACCESS';
    this.triggerTtlMs = options.triggerTtlMs ?? 3_000;
    for (const group of options.usergroups ?? []) this.usergroups.set(group.id, { ...group, members: [...(group.members ?? [])] });
    for (const user of options.users ?? []) this.addUser(user);

    this.handlers = {
      'auth.test': () => this.authTest(),
      'users.info': (a) => this.usersInfo(a),
      'users.lookupByEmail': (a) => this.usersLookupByEmail(a),
      'usergroups.list': (a) => this.usergroupsList(a),
      'usergroups.users.list': (a) => this.usergroupsUsersList(a),
      'conversations.open': (a) => this.conversationsOpen(a),
      'chat.postMessage': (a) => this.chatPostMessage(a),
      'chat.update': (a) => this.chatUpdate(a),
      'chat.postEphemeral': (a) => this.chatPostEphemeral(a),
      'chat.getPermalink': (a) => this.chatGetPermalink(a),
      'views.open': (a) => this.viewsOpen(a),
      'views.push': (a) => this.viewsPush(a),
      'views.update': (a) => this.viewsUpdate(a),
      'views.publish': (a) => this.viewsPublish(a),
      'reactions.add': (a) => this.reactionsAdd(a),
    };
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Listens on 127.0.0.1, a free port. Returns the Web API base URL with its trailing slash. */
  async start(): Promise<string> {
    if (this.server) throw new Error('FakeSlackApi already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.url;
  }

  get url(): string {
    if (!this.server) throw new Error('FakeSlackApi not started');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  async stop(): Promise<void> {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`FakeSlackApi stopped while waiting for ${waiter.method}`));
    }
    this.waiters.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  // ---- seed data -------------------------------------------------------------------------------

  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, { ...user });
    for (const ref of user.groups ?? []) {
      const group = this.findUsergroup(ref);
      if (!group) throw new Error(`FakeSlackApi: user ${user.id} names unknown group ${ref}`);
      if (!group.members?.includes(user.id)) group.members = [...(group.members ?? []), user.id];
    }
  }

  /** Deactivates (or reactivates) an account, as an admin does in Slack: users.info then says `deleted`. */
  setUserDeleted(userId: string, deleted: boolean): void {
    const user = this.users.get(userId);
    if (!user) throw new Error(`FakeSlackApi: unknown user ${userId}`);
    user.deleted = deleted;
  }

  /** Replaces a group's members (for tests of membership changes and caches). */
  setUsergroupMembers(idOrHandle: string, members: string[]): void {
    const group = this.findUsergroup(idOrHandle);
    if (!group) throw new Error(`FakeSlackApi: unknown group ${idOrHandle}`);
    group.members = [...members];
  }

  // ---- test helpers ----------------------------------------------------------------------------

  /** Every call so far (or those of one method), oldest first. */
  calls(method?: string): RecordedSlackCall[] {
    return this.recorded.filter((c) => method === undefined || c.method === method);
  }

  /** Resolves with the first call of `method` (already made or still to come) that matches. */
  waitForCall(
    method: string,
    predicate: (call: RecordedSlackCall) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<RecordedSlackCall> {
    const done = this.recorded.find((c) => c.method === method && predicate(c));
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const waiter: CallWaiter = {
        method,
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.recorded.map((c) => c.method).join(', ') || 'none';
          reject(new Error(`no matching ${method} call within ${timeoutMs} ms (calls so far: ${seen})`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Messages as they stand now (after chat.update), in posting order. */
  get messages(): FakeSlackMessage[] {
    return [...this.messageStore.values()];
  }

  message(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.messageStore.get(`${channel}/${ts}`);
  }

  get ephemerals(): FakeSlackEphemeral[] {
    return [...this.ephemeralStore];
  }

  /** Modals opened or pushed, as they stand now. */
  get views(): FakeSlackView[] {
    return [...this.viewStore.values()];
  }

  view(id: string): FakeSlackView | undefined {
    return this.viewStore.get(id);
  }

  /** The App Home last published for a user. */
  homeView(userId: string): FakeSlackView | undefined {
    return this.homeViewStore.get(userId);
  }

  /** The DM channel id conversations.open returns for this user. */
  dmChannelOf(userId: string): string {
    return `D${userId.replace(/^[UW]/, '')}`;
  }

  /**
   * A trigger id as Slack puts in interaction payloads. views.open/push accept it once, within the
   * trigger lifetime counted from `issuedAt` (default now): pass an old `issuedAt` to test expiry.
   */
  newTriggerId(options: { issuedAt?: number; userId?: string } = {}): string {
    const id = `${Date.now()}.${this.teamId.replace(/\D/g, '') || '1'}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: options.issuedAt ?? Date.now(), exchanged: false, userId: options.userId });
    return id;
  }

  /** The next call of `method` (the next matching `options.when`, when given) fails with Slack's `error` (e.g. `ratelimited`, `channel_not_found`). */
  failNext(method: string, error: string, options: FailureOptions = {}): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ error, ...options });
    this.failures.set(method, queue);
  }

  /** The next call of `method` (the next matching `when`, when given) is answered only after `ms`: a slow Slack. */
  delayNext(method: string, ms: number, when?: (args: Record<string, unknown>) => boolean): void {
    const queue = this.delays.get(method) ?? [];
    queue.push({ ms, ...(when ? { when } : {}) });
    this.delays.set(method, queue);
  }

  /**
   * A response_url as Slack puts in slash commands and interactions, served by this fake: what the
   * app POSTs to it is recorded in `responses`. Use it in place of the unreachable default URL.
   */
  responseUrl(): string {
    const id = this.nextId('R');
    this.responseIds.add(id);
    return this.url.replace(/\/api\/$/, `/response/${id}`);
  }

  /** Messages POSTed to response URLs, oldest first. */
  get responses(): FakeSlackResponse[] {
    return [...this.responseStore];
  }

  /** Resolves with the first response (already posted or still to come) that matches. */
  waitForResponse(predicate: (response: FakeSlackResponse) => boolean = () => true, timeoutMs = 5_000): Promise<FakeSlackResponse> {
    const done = this.responseStore.find(predicate);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (r: FakeSlackResponse) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.responseWaiters.delete(waiter);
        reject(new Error(`no matching response_url post within ${timeoutMs} ms (${this.responseStore.length} so far)`));
      }, timeoutMs);
      this.responseWaiters.add(waiter);
    });
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const response = /^\/response\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (response?.[1] && req.method === 'POST') {
      await this.handleResponseUrl(response[1], req, res, url);
      return;
    }
    const match = /^\/api\/([A-Za-z0-9._]+)$/.exec(url.pathname);
    if (!match?.[1] || (req.method !== 'POST' && req.method !== 'GET')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not a Web API method URL');
      return;
    }
    const method = match[1];
    const parsed = await parseApiRequest(req, url);
    const delays = this.delays.get(method) ?? [];
    const delayIndex = delays.findIndex((d) => d.when === undefined || d.when(parsed.args));
    const [delay] = delayIndex === -1 ? [] : delays.splice(delayIndex, 1);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay.ms));
    const { status, body, headers } = this.answer(method, parsed.args, parsed.token, parsed.bodyError);
    this.record({
      method,
      args: parsed.args,
      at: Date.now(),
      token: parsed.token,
      contentType: parsed.contentType,
      status,
      response: body,
    });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private async handleResponseUrl(id: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parsed = await parseApiRequest(req, url);
    if (!this.responseIds.has(id) || parsed.bodyError) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(parsed.bodyError ?? 'no_such_response_url');
      return;
    }
    const recorded: FakeSlackResponse = { id, body: parsed.args, at: Date.now() };
    this.responseStore.push(recorded);
    for (const waiter of this.responseWaiters) {
      if (waiter.predicate(recorded)) {
        this.responseWaiters.delete(waiter);
        waiter.resolve(recorded);
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }

  private answer(
    method: string,
    args: Record<string, unknown>,
    token: string | undefined,
    bodyError: string | undefined,
  ): { status: number; body: Record<string, unknown>; headers?: Record<string, string> } {
    const queue = this.failures.get(method) ?? [];
    const index = queue.findIndex((f) => f.when === undefined || f.when(args));
    const failure = index >= 0 ? queue.splice(index, 1)[0] : undefined;
    if (failure) {
      const status = failure.status ?? (failure.error === 'ratelimited' ? 429 : 200);
      const headers: Record<string, string> = status === 429 ? { 'retry-after': String(failure.retryAfterSec ?? 1) } : {};
      return { status, body: { ok: false, error: failure.error }, headers };
    }
    if (bodyError) return { status: 200, body: { ok: false, error: bodyError } };
    const handler = this.handlers[method];
    if (!handler) return { status: 200, body: { ok: false, error: 'unknown_method' } };
    if (token === undefined) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (token !== this.token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    try {
      return { status: 200, body: { ok: true, ...handler(args) } };
    } catch (err) {
      if (err instanceof SlackFailure) return { status: 200, body: { ok: false, error: err.error } };
      throw err;
    }
  }

  private record(call: RecordedSlackCall): void {
    this.recorded.push(call);
    for (const waiter of this.waiters) {
      if (waiter.method === call.method && waiter.predicate(call)) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(call);
      }
    }
  }

  // ---- state helpers ---------------------------------------------------------------------------

  private findUsergroup(idOrHandle: string): FakeSlackUsergroup | undefined {
    return this.usergroups.get(idOrHandle) ?? [...this.usergroups.values()].find((g) => g.handle === idOrHandle);
  }

  private nextTs(): string {
    this.sequence += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}${String(this.sequence).padStart(8, '0')}`;
  }

  private newHash(): string {
    return `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  }

  /** A channel argument as Slack resolves it: a user id means the app's DM with that user. */
  private resolveChannel(channel: string): string {
    if (/^[UW][A-Z0-9]+$/.test(channel)) {
      if (!this.users.has(channel)) throw new SlackFailure('channel_not_found');
      return this.dmChannelOf(channel);
    }
    if (channel.startsWith('D')) {
      const known = [...this.users.keys()].some((id) => this.dmChannelOf(id) === channel);
      if (!known) throw new SlackFailure('channel_not_found');
      return channel;
    }
    if (!/^[CG][A-Z0-9]+$/.test(channel)) throw new SlackFailure('channel_not_found');
    return channel;
  }

  private userObject(user: FakeSlackUser): Record<string, unknown> {
    const realName = user.realName ?? user.name;
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      deleted: user.deleted ?? false,
      real_name: realName,
      tz: user.tz ?? 'UTC',
      tz_label: user.tz ?? 'Coordinated Universal Time',
      tz_offset: 0,
      is_bot: user.isBot ?? false,
      is_app_user: false,
      is_email_confirmed: user.emailConfirmed ?? true,
      ...(user.guest === 'restricted' ? { is_restricted: true } : user.guest === 'ultra' ? { is_restricted: true, is_ultra_restricted: true } : {}),
      profile: { email: user.email, real_name: realName, display_name: user.name, team: this.teamId },
    };
  }

  private exchangeTrigger(args: Record<string, unknown>): TriggerRecord {
    const id = stringArg(args, 'trigger_id');
    const trigger = id === undefined ? undefined : this.triggers.get(id);
    if (!trigger) throw new SlackFailure('invalid_trigger_id');
    if (trigger.exchanged) throw new SlackFailure('exchanged_trigger_id');
    if (Date.now() - trigger.issuedAt > this.triggerTtlMs) throw new SlackFailure('expired_trigger_id');
    trigger.exchanged = true;
    return trigger;
  }

  private storeView(
    input: Record<string, unknown>,
    via: string,
    userId: string | undefined,
    existing?: FakeSlackView,
    previousViewId?: string,
  ): FakeSlackView {
    const type = typeof input.type === 'string' ? input.type : '';
    if (type !== 'modal' && type !== 'home') throw new SlackFailure('invalid_arguments');
    const externalId = typeof input.external_id === 'string' && input.external_id !== '' ? input.external_id : undefined;
    if (externalId && [...this.viewStore.values()].some((v) => v.externalId === externalId && v.id !== existing?.id)) {
      throw new SlackFailure('duplicate_external_id');
    }
    const id = existing?.id ?? this.nextId('V');
    const hash = this.newHash();
    const view: Record<string, unknown> = {
      ...input,
      id,
      team_id: this.teamId,
      type,
      blocks: Array.isArray(input.blocks) ? input.blocks : [],
      private_metadata: typeof input.private_metadata === 'string' ? input.private_metadata : '',
      callback_id: typeof input.callback_id === 'string' ? input.callback_id : '',
      external_id: externalId ?? '',
      state: { values: {} },
      hash,
      root_view_id: existing ? (existing.view.root_view_id ?? id) : previousViewId ? (this.viewStore.get(previousViewId)?.view.root_view_id ?? id) : id,
      previous_view_id: existing ? (existing.view.previous_view_id ?? null) : (previousViewId ?? null),
      app_id: this.appId,
      bot_id: this.botId,
    };
    return { id, hash, type, view, userId: userId ?? existing?.userId, externalId, via };
  }

  private findView(args: Record<string, unknown>): FakeSlackView {
    const viewId = stringArg(args, 'view_id');
    const externalId = stringArg(args, 'external_id');
    const found = viewId
      ? (this.viewStore.get(viewId) ?? [...this.homeViewStore.values()].find((v) => v.id === viewId))
      : [...this.viewStore.values()].find((v) => v.externalId === externalId);
    if (!found) throw new SlackFailure('not_found');
    return found;
  }

  // ---- methods ---------------------------------------------------------------------------------

  private authTest(): MethodResult {
    return {
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamDomain,
      user: 'access-bot',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    };
  }

  private usersInfo(args: Record<string, unknown>): MethodResult {
    const user = this.users.get(required(args, 'user'));
    if (!user) throw new SlackFailure('user_not_found');
    return { user: this.userObject(user) };
  }

  private usersLookupByEmail(args: Record<string, unknown>): MethodResult {
    const email = required(args, 'email').toLowerCase();
    const user = [...this.users.values()].find((u) => u.email.toLowerCase() === email);
    if (!user) throw new SlackFailure('users_not_found');
    return { user: this.userObject(user) };
  }

  private usergroupsList(args: Record<string, unknown>): MethodResult {
    const includeUsers = booleanArg(args, 'include_users');
    return {
      usergroups: [...this.usergroups.values()].map((g) => ({
        id: g.id,
        team_id: this.teamId,
        is_usergroup: true,
        name: g.name ?? g.handle,
        handle: g.handle,
        user_count: g.members?.length ?? 0,
        ...(includeUsers ? { users: [...(g.members ?? [])] } : {}),
      })),
    };
  }

  private usergroupsUsersList(args: Record<string, unknown>): MethodResult {
    const group = this.usergroups.get(required(args, 'usergroup'));
    if (!group) throw new SlackFailure('no_such_subteam');
    return { users: [...(group.members ?? [])] };
  }

  private conversationsOpen(args: Record<string, unknown>): MethodResult {
    const users = required(args, 'users').split(',').map((u) => u.trim()).filter(Boolean);
    if (users.length !== 1) throw new SlackFailure('invalid_arguments');
    const userId = users[0] ?? '';
    if (!this.users.has(userId)) throw new SlackFailure('user_not_found');
    return { channel: { id: this.dmChannelOf(userId) } };
  }

  private chatPostMessage(args: Record<string, unknown>): MethodResult {
    const channel = this.resolveChannel(required(args, 'channel'));
    const text = stringArg(args, 'text');
    const blocks = blocksArg(args);
    checkMessageBlocks(blocks);
    if (text === undefined && (blocks === undefined || blocks.length === 0) && args.attachments === undefined) {
      throw new SlackFailure('no_text');
    }
    const ts = this.nextTs();
    const threadTs = stringArg(args, 'thread_ts');
    const message: FakeSlackMessage = {
      channel,
      ts,
      text,
      blocks,
      threadTs,
      metadata: args.metadata,
      updates: 0,
      reactions: [],
      history: [{ text, blocks, at: Date.now() }],
    };
    this.messageStore.set(`${channel}/${ts}`, message);
    return {
      channel,
      ts,
      message: { type: 'message', user: this.botUserId, bot_id: this.botId, app_id: this.appId, text: text ?? '', blocks, ts, thread_ts: threadTs },
    };
  }

  private chatUpdate(args: Record<string, unknown>): MethodResult {
    const channel = this.resolveChannel(required(args, 'channel'));
    const ts = required(args, 'ts');
    const message = this.messageStore.get(`${channel}/${ts}`);
    if (!message) throw new SlackFailure('message_not_found');
    const text = stringArg(args, 'text');
    const blocks = blocksArg(args);
    checkMessageBlocks(blocks);
    if (text !== undefined) message.text = text;
    if (blocks !== undefined) message.blocks = blocks;
    message.updates += 1;
    message.history.push({ text: message.text, blocks: message.blocks, at: Date.now() });
    return { channel, ts, text: message.text ?? '', message: { text: message.text ?? '', blocks: message.blocks } };
  }

  private chatPostEphemeral(args: Record<string, unknown>): MethodResult {
    const channel = this.resolveChannel(required(args, 'channel'));
    const user = required(args, 'user');
    if (!this.users.has(user)) throw new SlackFailure('user_not_found');
    const text = stringArg(args, 'text');
    const blocks = blocksArg(args);
    if (text === undefined && (blocks === undefined || blocks.length === 0)) throw new SlackFailure('no_text');
    const messageTs = this.nextTs();
    this.ephemeralStore.push({ channel, user, text, blocks, threadTs: stringArg(args, 'thread_ts'), messageTs });
    return { message_ts: messageTs };
  }

  private chatGetPermalink(args: Record<string, unknown>): MethodResult {
    const channel = this.resolveChannel(required(args, 'channel'));
    const ts = required(args, 'message_ts');
    const message = this.messageStore.get(`${channel}/${ts}`);
    if (!message) throw new SlackFailure('message_not_found');
    const base = `https://${this.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
    return {
      channel,
      permalink: message.threadTs ? `${base}?thread_ts=${message.threadTs}&cid=${channel}` : base,
    };
  }

  private viewsOpen(args: Record<string, unknown>): MethodResult {
    const input = viewArg(args);
    if (input.type !== 'modal') throw new SlackFailure('invalid_arguments');
    const trigger = this.exchangeTrigger(args);
    const stored = this.storeView(input, 'views.open', trigger.userId);
    this.viewStore.set(stored.id, stored);
    return { view: stored.view };
  }

  private viewsPush(args: Record<string, unknown>): MethodResult {
    const input = viewArg(args);
    if (input.type !== 'modal') throw new SlackFailure('invalid_arguments');
    const trigger = this.exchangeTrigger(args);
    const previous = [...this.viewStore.values()].filter((v) => v.userId === trigger.userId).at(-1);
    const stored = this.storeView(input, 'views.push', trigger.userId, undefined, previous?.id);
    this.viewStore.set(stored.id, stored);
    return { view: stored.view };
  }

  private viewsUpdate(args: Record<string, unknown>): MethodResult {
    const input = viewArg(args);
    const existing = this.findView(args);
    const hash = stringArg(args, 'hash');
    if (hash !== undefined && hash !== existing.hash) throw new SlackFailure('hash_conflict');
    const stored = this.storeView(input, 'views.update', undefined, existing);
    if (existing.type === 'home') this.homeViewStore.set(existing.userId ?? '', stored);
    else this.viewStore.set(stored.id, stored);
    return { view: stored.view };
  }

  private viewsPublish(args: Record<string, unknown>): MethodResult {
    const userId = required(args, 'user_id');
    if (!this.users.has(userId)) throw new SlackFailure('user_not_found');
    const input = viewArg(args);
    if (input.type !== 'home') throw new SlackFailure('invalid_arguments');
    const existing = this.homeViewStore.get(userId);
    const hash = stringArg(args, 'hash');
    if (existing && hash !== undefined && hash !== existing.hash) throw new SlackFailure('hash_conflict');
    const stored = this.storeView(input, 'views.publish', userId, existing);
    this.homeViewStore.set(userId, stored);
    return { view: stored.view };
  }

  private reactionsAdd(args: Record<string, unknown>): MethodResult {
    const channel = this.resolveChannel(required(args, 'channel'));
    const message = this.messageStore.get(`${channel}/${required(args, 'timestamp')}`);
    const name = required(args, 'name');
    if (!message) throw new SlackFailure('message_not_found');
    if (message.reactions.includes(name)) throw new SlackFailure('already_reacted');
    message.reactions.push(name);
    return {};
  }
}
