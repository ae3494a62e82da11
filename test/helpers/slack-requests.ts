import { createHmac, randomBytes } from 'node:crypto';

/**
 * Builds the requests Slack sends to an app's Request URL and POSTs them signed, as Slack signs
 * them: `X-Slack-Signature: v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`) and
 * `X-Slack-Request-Timestamp` in seconds. Slash commands and interactions are form-encoded
 * (interactions as one `payload=` JSON field); Events API callbacks are JSON.
 */

export type SlackSigning = 'valid' | 'forged' | 'stale' | 'unsigned';

export interface SlackRequestOptions {
  /** `forged`: signed with a wrong secret; `stale`: a timestamp 6 minutes old, correctly signed. */
  signing?: SlackSigning;
  /** Overrides the timestamp (seconds) that is signed and sent. */
  timestampSec?: number;
  /** Sends `X-Slack-Retry-Num` (and `X-Slack-Retry-Reason`) like a redelivered event. */
  retryNum?: number;
  retryReason?: string;
  headers?: Record<string, string>;
}

export interface SlackHttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

export interface SlackRequestsOptions {
  /** The app's Request URL, e.g. `http://127.0.0.1:3000/slack/events`. */
  url: string;
  signingSecret: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  /** The bot's ids, as Slack puts them in event authorizations and views. */
  botUserId?: string;
  botId?: string;
  /** Where trigger ids come from; pass the fake's so views.open accepts them. */
  newTriggerId?: (userId: string) => string;
}

export interface SlackUserRef {
  userId: string;
  userName?: string;
}

export interface SlashCommandInput extends SlackUserRef {
  command?: string;
  text?: string;
  channelId?: string;
  channelName?: string;
  triggerId?: string;
}

export interface ActionInput {
  actionId: string;
  blockId?: string;
  value?: string;
  /** `button` by default; for selects pass the type and `selectedOption`. */
  type?: string;
  selectedOption?: { text: string; value: string };
}

export interface ViewRef {
  id?: string;
  type?: 'modal' | 'home';
  callbackId?: string;
  privateMetadata?: string;
  hash?: string;
  /** state.values of the view: block_id → action_id → element state (`{ type, value }`…). */
  values?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface BlockActionsInput extends SlackUserRef {
  actions: ActionInput[];
  /** A message the buttons are on (default), or a view (modal or App Home) when `view` is given. */
  channelId?: string;
  messageTs?: string;
  message?: Record<string, unknown>;
  view?: ViewRef;
  triggerId?: string;
}

export interface ViewSubmissionInput extends SlackUserRef {
  view: ViewRef & { callbackId: string };
  triggerId?: string;
}

export interface ViewClosedInput extends SlackUserRef {
  view: ViewRef & { callbackId: string };
  isCleared?: boolean;
}

export interface BlockSuggestionInput extends SlackUserRef {
  actionId: string;
  blockId: string;
  value: string;
  view?: ViewRef;
}

const STALE_BY_SEC = 6 * 60;

export function slackSignature(signingSecret: string, timestampSec: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex')}`;
}

function randomId(prefix: string, length = 10): string {
  return `${prefix}${randomBytes(length).toString('hex').toUpperCase().slice(0, length)}`;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

export class SlackRequests {
  readonly url: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly apiAppId: string;
  readonly botUserId: string;
  readonly botId: string;
  private readonly signingSecret: string;
  private readonly triggerIds: (userId: string) => string;

  constructor(options: SlackRequestsOptions) {
    this.url = options.url;
    this.signingSecret = options.signingSecret;
    this.teamId = options.teamId ?? 'T0FAKE';
    this.teamDomain = options.teamDomain ?? 'fake-workspace';
    this.apiAppId = options.apiAppId ?? 'A0ACCESS';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.triggerIds = options.newTriggerId ?? (() => `${Date.now()}.1.${randomBytes(16).toString('hex')}`);
  }

  /** Signs and POSTs a raw body exactly as given. */
  async post(rawBody: string, contentType: string, options: SlackRequestOptions = {}): Promise<SlackHttpResponse> {
    const signing = options.signing ?? 'valid';
    const timestampSec = options.timestampSec ?? (signing === 'stale' ? nowSec() - STALE_BY_SEC : nowSec());
    const headers: Record<string, string> = { 'content-type': contentType, ...options.headers };
    if (signing !== 'unsigned') {
      const secret = signing === 'forged' ? `${this.signingSecret}-not-the-real-one` : this.signingSecret;
      headers['x-slack-request-timestamp'] = String(timestampSec);
      headers['x-slack-signature'] = slackSignature(secret, timestampSec, rawBody);
    }
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const response = await fetch(this.url, { method: 'POST', headers, body: rawBody });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
  }

  /** A form-encoded interaction: `payload=<JSON>`. */
  postInteraction(payload: Record<string, unknown>, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
  }

  postEvent(body: Record<string, unknown>, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.post(JSON.stringify(body), 'application/json', options);
  }

  slashCommand(input: SlashCommandInput, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    const form = this.slashCommandForm(input);
    return this.post(new URLSearchParams(form).toString(), 'application/x-www-form-urlencoded', options);
  }

  blockActions(input: BlockActionsInput, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.postInteraction(this.blockActionsPayload(input), options);
  }

  viewSubmission(input: ViewSubmissionInput, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.postInteraction(this.viewSubmissionPayload(input), options);
  }

  viewClosed(input: ViewClosedInput, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.postInteraction(this.viewClosedPayload(input), options);
  }

  /** An external_select options load (`block_suggestion`). */
  blockSuggestion(input: BlockSuggestionInput, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.postInteraction(this.blockSuggestionPayload(input), options);
  }

  event(event: Record<string, unknown> & { type: string }, options: SlackRequestOptions & { eventId?: string } = {}): Promise<SlackHttpResponse> {
    return this.postEvent(this.eventCallbackBody(event, options.eventId), options);
  }

  appHomeOpened(userId: string, options?: SlackRequestOptions & { tab?: 'home' | 'messages'; eventId?: string }): Promise<SlackHttpResponse> {
    return this.event(
      { type: 'app_home_opened', user: userId, channel: `D${userId.replace(/^[UW]/, '')}`, tab: options?.tab ?? 'home', event_ts: `${nowSec()}.000100` },
      options,
    );
  }

  urlVerification(challenge: string, options?: SlackRequestOptions): Promise<SlackHttpResponse> {
    return this.postEvent({ token: 'legacy-verification-token', challenge, type: 'url_verification' }, options);
  }

  // ---- payload builders (public so a test can alter a field before posting) ---------------------

  slashCommandForm(input: SlashCommandInput): Record<string, string> {
    return {
      token: 'legacy-verification-token',
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: input.channelId ?? 'C0GENERAL',
      channel_name: input.channelName ?? 'general',
      user_id: input.userId,
      user_name: input.userName ?? input.userId.toLowerCase(),
      command: input.command ?? '/access',
      text: input.text ?? '',
      api_app_id: this.apiAppId,
      is_enterprise_install: 'false',
      response_url: `https://hooks.slack.invalid/commands/${this.teamId}/${randomId('', 12)}`,
      trigger_id: input.triggerId ?? this.triggerIds(input.userId),
    };
  }

  blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
    const actionTs = `${nowSec()}.${String(Date.now() % 1_000_000).padStart(6, '0')}`;
    const actions = input.actions.map((a) => ({
      action_id: a.actionId,
      block_id: a.blockId ?? randomId('b', 5),
      type: a.type ?? 'button',
      action_ts: actionTs,
      ...(a.value !== undefined ? { value: a.value } : {}),
      ...(a.selectedOption
        ? { selected_option: { text: { type: 'plain_text', text: a.selectedOption.text, emoji: true }, value: a.selectedOption.value } }
        : {}),
      ...(a.type === undefined || a.type === 'button' ? { text: { type: 'plain_text', text: a.actionId, emoji: true } } : {}),
    }));
    const base = {
      type: 'block_actions',
      user: this.user(input),
      api_app_id: this.apiAppId,
      token: 'legacy-verification-token',
      trigger_id: input.triggerId ?? this.triggerIds(input.userId),
      team: { id: this.teamId, domain: this.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      actions,
    };
    if (input.view) {
      const view = this.viewObject(input.view);
      return { ...base, container: { type: 'view', view_id: view.id }, view, state: view.state };
    }
    const channelId = input.channelId ?? 'C0APPROVALS';
    const messageTs = input.messageTs ?? `${nowSec()}.000200`;
    return {
      ...base,
      container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
      channel: { id: channelId, name: 'approvals' },
      message: input.message ?? { type: 'message', ts: messageTs, text: 'approval request', blocks: [] },
      response_url: `https://hooks.slack.invalid/actions/${this.teamId}/${randomId('', 12)}`,
      state: { values: {} },
    };
  }

  viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
    return {
      type: 'view_submission',
      team: { id: this.teamId, domain: this.teamDomain },
      user: this.user(input),
      api_app_id: this.apiAppId,
      token: 'legacy-verification-token',
      trigger_id: input.triggerId ?? this.triggerIds(input.userId),
      view: this.viewObject(input.view),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  viewClosedPayload(input: ViewClosedInput): Record<string, unknown> {
    return {
      type: 'view_closed',
      team: { id: this.teamId, domain: this.teamDomain },
      user: this.user(input),
      api_app_id: this.apiAppId,
      token: 'legacy-verification-token',
      view: this.viewObject(input.view),
      is_cleared: input.isCleared ?? false,
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  blockSuggestionPayload(input: BlockSuggestionInput): Record<string, unknown> {
    return {
      type: 'block_suggestion',
      user: this.user(input),
      team: { id: this.teamId, domain: this.teamDomain },
      api_app_id: this.apiAppId,
      token: 'legacy-verification-token',
      action_id: input.actionId,
      block_id: input.blockId,
      value: input.value,
      container: { type: 'view', view_id: input.view?.id ?? 'V0MODAL' },
      ...(input.view ? { view: this.viewObject(input.view) } : {}),
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  eventCallbackBody(event: Record<string, unknown> & { type: string }, eventId?: string): Record<string, unknown> {
    const eventTime = nowSec();
    return {
      token: 'legacy-verification-token',
      team_id: this.teamId,
      api_app_id: this.apiAppId,
      event: { event_ts: `${eventTime}.000100`, ...event },
      type: 'event_callback',
      event_id: eventId ?? randomId('Ev', 10),
      event_time: eventTime,
      authorizations: [{ enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: randomId('4-', 24),
    };
  }

  private user(input: SlackUserRef): Record<string, unknown> {
    const name = input.userName ?? input.userId.toLowerCase();
    return { id: input.userId, username: name, name, team_id: this.teamId };
  }

  private viewObject(view: ViewRef): Record<string, unknown> & { id: string; state: unknown } {
    const id = view.id ?? randomId('V', 10);
    return {
      id,
      team_id: this.teamId,
      type: view.type ?? 'modal',
      callback_id: view.callbackId ?? '',
      private_metadata: view.privateMetadata ?? '',
      hash: view.hash ?? `${nowSec()}.${randomBytes(4).toString('hex')}`,
      blocks: [],
      state: { values: view.values ?? {} },
      title: { type: 'plain_text', text: 'access-bot' },
      root_view_id: id,
      previous_view_id: null,
      app_id: this.apiAppId,
      bot_id: this.botId,
      external_id: '',
      clear_on_close: false,
      notify_on_close: false,
    };
  }
}
