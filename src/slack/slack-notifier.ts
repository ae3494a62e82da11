import { z } from 'zod';
import type { AppContext } from '../app/app-context';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { Policy, Resource, Workflow } from '../config/policy';
import type { AccessRequest, RequesterNotice } from '../engine/types';
import type { Logger } from '../log/logger';
import type { Directory, Notifier, OnCall } from '../requests/ports';
import {
  approvalMessage,
  emptyOncallNote,
  escalationReply,
  reminderReply,
  reviewReply,
  stageAdvancedReply,
  type KnownBlock,
} from './blocks/approval-message';
import { breakGlassMessage } from './blocks/break-glass-message';
import { breakGlassReviewClosedText, breakGlassReviewMessage } from './blocks/break-glass-review-message';
import { oncallContextText, oncallUnknownText } from './blocks/oncall-context';
import { requesterMessage } from './blocks/requester-messages';
import { SlackApiError } from './errors/slack-api-error';
import { SlackNotInChannelError } from './errors/slack-not-in-channel-error';
import { DmChannels } from './dm-channels';
import { SlackMessageRefs, type MessageRef } from './slack-message-refs';
import { callSlack, type WebClient } from './slack-web-api';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_ERRORS = new Set(['not_in_channel', 'channel_not_found']);
/** A remembered DM channel Slack no longer knows. */
const DM_GONE_ERRORS = new Set(['channel_not_found', 'is_archived', 'not_in_channel']);
/** How often a render re-checks for a newer request version that raced it (see settle()). */
const SETTLE_ROUNDS = 3;

const PostedResponse = z.object({ channel: z.string(), ts: z.string() });
const OpenedResponse = z.object({ channel: z.object({ id: z.string() }) });

export interface SlackNotifierOptions {
  /** Bolt's `app.client` in the bot, a plain WebClient in the worker. */
  client: WebClient;
  refs: SlackMessageRefs;
  /** DM channel ids, opened once per person and shared by replicas. */
  dmChannels: DmChannels;
  policy: () => Policy;
  audit: Pick<RedisAuditLog, 'append'>;
  /** The stored request: when a newer version raced an update, the copies are rendered from it. */
  requests: { get(id: string): Promise<AccessRequest | undefined> };
  /** Resolves the break-glass `notify.users` (ids or emails) and reviewers. */
  directory: Directory;
  /** PagerDuty: the on-call context of approval messages and the pending DM (absent or off: "not available"). */
  oncall?: OnCall;
  /** The Slack user with a (confirmed) email, for on-call mentions. */
  userIdByEmail?: (email: string) => Promise<string | undefined>;
  /** How long the on-call context may take before the message goes out with "on-call unknown". Default 2.5 s. */
  oncallContextTimeoutMs?: number;
  logger: Logger;
  clock?: () => number;
  /** How often servers fetch the KRL (KRL_REFRESH_INTERVAL), and where (PUBLIC_URL): said in the revoke DM. */
  krlRefreshMs?: number;
  publicUrl?: string;
  /** Told when a certificate DM went out (the click-to-certificate metric). */
  onCertificateDelivered?: (request: AccessRequest) => void;
  /** Whether the Jira channel is on: a workflow approving only in Jira then gets no Slack DMs. */
  jiraEnabled?: () => boolean;
}

interface Outgoing {
  text: string;
  blocks?: KnownBlock[];
}

/**
 * Every message access-bot sends in Slack: the approval message (channel post and approver DMs,
 * each copy remembered in Redis and updated in place on every change, with a thread reply per
 * review), reminders and escalations, the requester's DMs (the certificate and how to use it) and
 * break-glass alerts. Works with a bare WebClient, so the worker sends what happens there.
 *
 * Each method tries every message it owes and then throws the first failure, so one bad channel
 * does not keep the approvers' DMs from going out; the EffectRunner logs and audits the failure.
 */
export class SlackNotifier implements Notifier {
  private readonly client: WebClient;
  private readonly refs: SlackMessageRefs;
  private readonly dms: DmChannels;
  private readonly logger: Logger;
  private readonly clock: () => number;

  constructor(private readonly options: SlackNotifierOptions) {
    this.client = options.client;
    this.refs = options.refs;
    this.dms = options.dmChannels;
    this.logger = options.logger.child({ component: 'slack-notifier' });
    this.clock = options.clock ?? Date.now;
  }

  /** The notifier for an AppContext: its Redis, policy, audit log, store and (current) directory. */
  static forContext(ctx: AppContext, client: WebClient): SlackNotifier {
    return new SlackNotifier({
      client,
      refs: new SlackMessageRefs(ctx.redis, ctx.keys),
      dmChannels: new DmChannels(ctx.redis, ctx.keys),
      policy: () => ctx.policy,
      audit: ctx.audit,
      requests: ctx.store,
      directory: { actor: (id) => ctx.directory.actor(id), resolveApprovers: (a) => ctx.directory.resolveApprovers(a) },
      oncall: ctx.oncallPort,
      userIdByEmail: async (email) => {
        const directory = ctx.directory as Directory & { userIdByEmail?: (email: string) => Promise<string | undefined> };
        return directory.userIdByEmail ? directory.userIdByEmail(email) : undefined;
      },
      logger: ctx.logger,
      krlRefreshMs: ctx.env.KRL_REFRESH_INTERVAL,
      jiraEnabled: () => ctx.jiraEnabled,
      ...(ctx.env.PUBLIC_URL ? { publicUrl: ctx.env.PUBLIC_URL } : {}),
      onCertificateDelivered: (request) => ctx.requestMetrics.certificateDelivered(request),
    });
  }

  async approvers(request: AccessRequest, stage: number, reason: 'new' | 'escalated' | 'reminder'): Promise<void> {
    const { resource, workflow } = this.lookup(request);
    if (!workflow) {
      this.logger.warn({ requestId: request.id, workflow: request.workflow }, 'workflow no longer exists; approvers not notified');
      return;
    }
    // A workflow that approves only in Jira is asked there (the Jira channel opens the issue). With
    // Jira off, its approvers are still reached: by Slack DM, and the message says why.
    const jiraOnly = !workflow.approval.slack_channel && !workflow.approval.slack_dm ? workflow.approval.jira : undefined;
    if (jiraOnly && this.options.jiraEnabled?.()) return;
    const route = jiraOnly ? { ...workflow.approval, slack_dm: true } : workflow.approval;
    const routeNote = jiraOnly
      ? `:information_source: This workflow approves in Jira (project ${jiraOnly.project}), but Jira is not connected to access-bot, so the request came here: decide with the buttons.`
      : undefined;

    const failures: unknown[] = [];
    const refs = await this.refs.list(request.id);
    const oncallContext = await this.oncallContext(request, resource);
    const channelCopies = refs.filter((r) => r.kind === 'channel');
    const acted = new Set(request.reviews.filter((r) => r.stage === stage).map((r) => r.by));
    const targets = request.approvers.filter((id) => id !== request.requester.id || workflow.self_approval);
    const waiting = targets.filter((id) => !acted.has(id));
    const reminder = reason === 'reminder' ? await this.refs.nextReminder(request.id, stage) : undefined;
    const oncallNote = reason === 'reminder' ? undefined : await this.emptyOncallNote(workflow.stages[stage]?.approvers.pagerduty_oncall);
    let posted = false;

    const jobs: Promise<void>[] = [];
    if (route.slack_channel) {
      const channel = route.slack_channel;
      if (channelCopies.length === 0 && reason !== 'reminder') {
        jobs.push(
          this.attempt(failures, async () => {
            const message = approvalMessage({ request, resource, workflow, ...(oncallContext ? { oncallContext } : {}), ...(oncallNote ? { oncallNote } : {}) });
            const at = await this.post(channel, message, `approval request for ${request.id}`);
            await this.refs.add(request.id, { ...at, kind: 'channel', stage, postedAt: this.clock() });
            posted = true;
          }),
        );
      } else if (channelCopies.length > 0) {
        const reply =
          reason === 'reminder'
            ? reminderReply(request, workflow, reminder ?? 1, waiting)
            : reason === 'escalated'
              ? `${escalationReply(request, workflow)}${oncallNote ? `\n${oncallNote}` : ''}`
              : undefined;
        // A stage passed by approval is said in the review's own thread reply (replyToReviews).
        if (reply) for (const copy of channelCopies) jobs.push(this.attempt(failures, () => this.reply(copy, reply)));
      }
    }
    if (reason === 'escalated') {
      const text = `${escalationReply(request, workflow)}${oncallNote ? `\n${oncallNote}` : ''}`;
      for (const copy of latestDmCopies(refs)) jobs.push(this.attempt(failures, () => this.reply(copy, text)));
    }
    if (route.slack_dm) {
      const already = new Set(refs.filter((r) => r.kind === 'dm' && r.stage === stage).map((r) => r.userId));
      const recipients = reason === 'reminder' ? waiting : targets.filter((id) => !already.has(id));
      for (const userId of recipients) {
        jobs.push(
          this.attempt(failures, async () => {
            const message = approvalMessage({
              request,
              resource,
              workflow,
              ...(routeNote ? { routeNote } : {}),
              ...(reminder !== undefined ? { reminder } : {}),
              ...(oncallContext ? { oncallContext } : {}),
              ...(oncallNote ? { oncallNote } : {}),
            });
            const at = await this.dm(userId, message);
            await this.refs.add(request.id, {
              ...at,
              kind: 'dm',
              userId,
              stage,
              postedAt: this.clock(),
              ...(reminder !== undefined ? { reminder } : {}),
            });
            posted = true;
          }),
        );
      }
      if (targets.length === 0) {
        this.logger.warn({ requestId: request.id, stage }, 'no approvers to send the approval request to');
      }
    }
    await Promise.all(jobs);

    // New copies show this version; if an update of a newer one ran meanwhile, it missed them.
    if (posted) await this.settle(request.version, request.id, failures);
    this.throwFirst(failures, request.id);
  }

  async updateApprovalMessages(request: AccessRequest): Promise<void> {
    const failures: unknown[] = [];
    const refs = await this.refs.list(request.id);
    if (refs.length > 0 && (await this.refs.raiseRendered(request.id, request.version))) {
      await this.render(request, refs, failures);
      await this.settle(request.version, request.id, failures);
    }
    await this.replyToReviews(request, refs, failures);
    this.throwFirst(failures, request.id);
  }

  async requester(request: AccessRequest, notice: RequesterNotice): Promise<void> {
    if (!SLACK_USER_ID.test(request.requester.id)) {
      this.logger.info({ requestId: request.id, requester: request.requester.id, notice }, 'requester is not a Slack user; no DM');
      return;
    }
    const { resource, workflow } = this.lookup(request);
    const oncallContext = notice === 'pending' ? await this.oncallContext(request, resource) : undefined;
    const message = requesterMessage({
      request,
      notice,
      now: this.clock(),
      ...(this.options.krlRefreshMs !== undefined ? { krlRefreshMs: this.options.krlRefreshMs } : {}),
      ...(this.options.publicUrl !== undefined ? { publicUrl: this.options.publicUrl } : {}),
      ...(resource ? { resource } : {}),
      ...(workflow ? { workflow } : {}),
      ...(oncallContext ? { oncallContext } : {}),
    });
    const at = await this.dm(request.requester.id, message);
    if (notice === 'issued' && request.certificate) {
      this.options.onCertificateDelivered?.(request);
      await this.options.audit.append(
        [
          {
            type: AUDIT_EVENT_TYPES.certDelivered,
            actor: { id: 'system', via: 'system' },
            requestId: request.id,
            data: { via: 'slack', channel: at.channel, ts: at.ts, serial: request.certificate.serial, kind: request.certificate.kind },
          },
        ],
        this.clock(),
      );
    }
  }

  async breakGlass(request: AccessRequest): Promise<void> {
    const { resource, workflow } = this.lookup(request);
    const notify = workflow?.break_glass?.notify;
    if (!notify?.slack_channel && !notify?.users?.length) {
      this.logger.warn({ requestId: request.id, requester: request.requester.id }, 'break-glass used; the workflow names nobody to tell in Slack');
      return;
    }
    const message = breakGlassMessage(request, resource);
    const failures: unknown[] = [];
    const jobs: Promise<void>[] = [];
    if (notify.slack_channel) {
      const channel = notify.slack_channel;
      jobs.push(this.attempt(failures, async () => void (await this.post(channel, message, `break-glass alert for ${request.id}`))));
    }
    if (notify.users?.length) {
      const users = await this.options.directory.resolveApprovers({ users: notify.users });
      for (const userId of users) jobs.push(this.attempt(failures, async () => void (await this.dm(userId, message))));
    }
    await Promise.all(jobs);
    this.throwFirst(failures, request.id);
  }

  async breakGlassReview(request: AccessRequest, phase: 'opened' | 'reminder' | 'closed', n?: number): Promise<void> {
    const { resource, workflow } = this.lookup(request);
    const bg = workflow?.break_glass;
    const failures: unknown[] = [];
    const jobs: Promise<void>[] = [];
    if (phase === 'closed') {
      const text = breakGlassReviewClosedText(request);
      const channel = bg?.notify?.slack_channel;
      if (channel) jobs.push(this.attempt(failures, async () => void (await this.post(channel, { text }, `review closed for ${request.id}`))));
      if (SLACK_USER_ID.test(request.requester.id)) jobs.push(this.attempt(failures, async () => void (await this.dm(request.requester.id, { text }))));
    } else {
      const reviewers = await this.reviewersOf(request);
      if (reviewers.length === 0) this.logger.warn({ requestId: request.id }, 'post-incident review open, but no reviewer could be resolved');
      const message = breakGlassReviewMessage(request, resource, phase === 'reminder' ? n : undefined);
      for (const userId of reviewers) jobs.push(this.attempt(failures, async () => void (await this.dm(userId, message))));
    }
    await Promise.all(jobs);
    this.throwFirst(failures, request.id);
  }

  async direct(userId: string, text: string): Promise<void> {
    await this.dm(userId, { text });
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** Said when a stage's on-call approvers resolve to nobody now: the request still reaches the others. */
  private async emptyOncallNote(oncall: { escalation_policy: string; levels: number[] } | undefined): Promise<string | undefined> {
    if (!oncall || !this.options.oncall?.enabled) return undefined;
    try {
      const ids = await this.options.directory.resolveApprovers({ pagerduty_oncall: oncall });
      return ids.length > 0 ? undefined : emptyOncallNote(oncall.escalation_policy, oncall.levels, 'nobody');
    } catch (err) {
      this.logger.warn({ err, escalationPolicy: oncall.escalation_policy }, 'could not resolve the on-call for the approval message');
      return emptyOncallNote(oncall.escalation_policy, oncall.levels, 'unknown');
    }
  }

  /** Who closes a break-glass review: the workflow's reviewers, else the admins; never the requester. */
  private async reviewersOf(request: AccessRequest): Promise<string[]> {
    const policy = this.options.policy();
    const configured = policy.workflows.get(request.workflow)?.break_glass?.reviewers;
    const approvers = configured ?? {
      ...(policy.admins.users?.length ? { users: policy.admins.users } : {}),
      ...(policy.admins.slack_groups?.length ? { slack_groups: policy.admins.slack_groups } : {}),
    };
    if (!approvers.users?.length && !approvers.slack_groups?.length && !approvers.pagerduty_oncall) return [];
    const ids = await this.options.directory.resolveApprovers(approvers);
    return ids.filter((id) => id !== request.requester.id && SLACK_USER_ID.test(id));
  }

  /**
   * The on-call context for a request's messages: computed once (levels 1 and 2 and open incidents of
   * the resource's PagerDuty service) and kept with the message refs, so every copy shows what the
   * approvers first saw. PagerDuty slow or down gives "on-call unknown", never a held-up message.
   */
  private async oncallContext(request: AccessRequest, resource: Resource | undefined): Promise<string | undefined> {
    const stored = await this.refs.oncallContext(request.id);
    if (stored !== undefined) return stored;
    const service = resource?.pagerduty_service;
    const oncall = this.options.oncall;
    if (!service || !oncall?.enabled) return undefined;
    const timeoutMs = this.options.oncallContextTimeoutMs ?? 2_500;
    let timer: NodeJS.Timeout | undefined;
    let text: string;
    try {
      const context = await Promise.race([
        oncall.context(service),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { reason: `no answer within ${timeoutMs} ms` })), timeoutMs);
        }),
      ]);
      const emails = [...new Set(context.oncall.flatMap((o) => (o.email ? [o.email.toLowerCase()] : [])))];
      const ids = new Map<string, string>();
      await Promise.all(
        emails.map(async (email) => {
          const id = await this.options.userIdByEmail?.(email).catch(() => undefined);
          if (id) ids.set(email, id);
        }),
      );
      text = oncallContextText(context, (email) => ids.get(email.toLowerCase()), this.clock());
    } catch (err) {
      const reason = (err as { reason?: unknown }).reason;
      this.logger.warn({ err, requestId: request.id, service }, 'on-call context unavailable');
      text = oncallUnknownText(typeof reason === 'string' ? reason : 'error');
    } finally {
      clearTimeout(timer);
    }
    await this.refs.setOncallContext(request.id, text);
    return text;
  }

  private lookup(request: AccessRequest): { resource: Resource | undefined; workflow: Workflow | undefined } {
    const policy = this.options.policy();
    return { resource: policy.resources.get(request.resource), workflow: policy.workflows.get(request.workflow) };
  }

  /** chat.update of every copy to `request`'s state. A copy deleted in Slack is forgotten. */
  private async render(request: AccessRequest, refs: MessageRef[], failures: unknown[]): Promise<void> {
    const { resource, workflow } = this.lookup(request);
    const oncallContext = await this.refs.oncallContext(request.id);
    await Promise.all(
      refs.map((ref) =>
        this.attempt(failures, async () => {
          const message = approvalMessage({
            request,
            resource,
            workflow,
            decidable: ref.kind === 'channel' || ref.stage === request.stage,
            ...(ref.reminder !== undefined ? { reminder: ref.reminder } : {}),
            ...(oncallContext ? { oncallContext } : {}),
          });
          try {
            await callSlack('chat.update', () =>
              this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks }),
            );
          } catch (err) {
            if (err instanceof SlackApiError && err.slackError === 'message_not_found') {
              this.logger.warn({ requestId: request.id, channel: ref.channel, ts: ref.ts }, 'approval message was deleted in Slack; forgetting it');
              await this.refs.remove(request.id, ref);
              return;
            }
            throw err;
          }
        }),
      ),
    );
  }

  /**
   * Two updates of one request can run at once (two approvers, two replicas) and Slack applies
   * them in any order. Whoever rendered an older version checks afterwards whether a newer one was
   * recorded meanwhile, and if so renders the stored (newest) request again, so the copies end on
   * the latest state.
   */
  private async settle(shownVersion: number, requestId: string, failures: unknown[]): Promise<void> {
    let shown = shownVersion;
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      if ((await this.refs.renderedVersion(requestId)) <= shown) return;
      const latest = await this.options.requests.get(requestId);
      if (!latest) return;
      await this.render(latest, await this.refs.list(requestId), failures);
      shown = latest.version;
    }
  }

  /**
   * One thread reply per review, posted once across processes (claimed in Redis), under the channel
   * copies: the channel's thread is the record people read. The approvers' DM copies are updated
   * in place and show every review, so a reply there would be a second call saying the same. The
   * review that passed a stage also says who decides next; the one that approved the request needs
   * no reply, the updated copies say it.
   */
  private async replyToReviews(request: AccessRequest, refs: MessageRef[], failures: unknown[]): Promise<void> {
    const { workflow } = this.lookup(request);
    const targets = refs.filter((r) => r.kind === 'channel');
    for (let i = 0; i < request.reviews.length; i++) {
      if (targets.length === 0) return;
      if (!(await this.refs.claim(request.id, `review:${i}`))) continue;
      const reply = reviewReply(request, i, workflow);
      if (!reply) continue;
      const review = request.reviews[i];
      // The approval that closed the request: every copy now says "Approved by …" itself.
      if (review?.decision === 'approve' && request.state !== 'pending' && i === request.reviews.length - 1) continue;
      const passedStage =
        review?.decision === 'approve' &&
        request.state === 'pending' &&
        request.stage === review.stage + 1 &&
        !request.escalatedStages.includes(review.stage) &&
        !request.reviews.slice(i + 1).some((r) => r.stage === review.stage);
      const text = passedStage ? `${reply}\n${stageAdvancedReply(request, workflow)}` : reply;
      await Promise.all(targets.map((copy) => this.attempt(failures, () => this.reply(copy, text))));
    }
  }

  private async reply(copy: MessageRef, text: string): Promise<void> {
    await this.post(copy.channel, { text }, 'thread reply', copy.ts);
  }

  private async post(channel: string, message: Outgoing, purpose: string, threadTs?: string): Promise<{ channel: string; ts: string }> {
    try {
      const response = await callSlack('chat.postMessage', () =>
        this.client.chat.postMessage({
          channel,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      const parsed = PostedResponse.safeParse(response);
      if (!parsed.success) throw new SlackApiError('chat.postMessage', 'unexpected_response');
      return parsed.data;
    } catch (err) {
      if (err instanceof SlackApiError && CHANNEL_ERRORS.has(err.slackError) && /^[CG]/.test(channel)) {
        throw new SlackNotInChannelError(channel, err.slackError, purpose, { cause: err });
      }
      throw err;
    }
  }

  /** A DM: conversations.open only the first time for a person (DmChannels), then straight to chat.postMessage. */
  private async dm(userId: string, message: Outgoing): Promise<{ channel: string; ts: string }> {
    const open = async (user: string) => {
      const response = await callSlack('conversations.open', () => this.client.conversations.open({ users: user }));
      const opened = OpenedResponse.safeParse(response);
      if (!opened.success) throw new SlackApiError('conversations.open', 'unexpected_response');
      return opened.data.channel.id;
    };
    const { channel, cached } = await this.dms.channelOf(userId, open);
    try {
      return await this.post(channel, message, `DM to ${userId}`);
    } catch (err) {
      if (!cached || !(err instanceof SlackApiError && DM_GONE_ERRORS.has(err.slackError))) throw err;
      // The remembered DM is gone (Slack says so): open it again, once.
      await this.dms.forget(userId);
      const again = await this.dms.channelOf(userId, open);
      return this.post(again.channel, message, `DM to ${userId}`);
    }
  }

  private async attempt(failures: unknown[], job: () => Promise<void>): Promise<void> {
    try {
      await job();
    } catch (err) {
      failures.push(err);
    }
  }

  private throwFirst(failures: unknown[], requestId: string): void {
    const [first, ...rest] = failures;
    for (const err of rest) this.logger.error({ err, requestId }, 'Slack message failed');
    if (first !== undefined) throw first;
  }
}

/** The newest copy in each DM: where thread replies go, so a reminded approver is not told three times. */
function latestDmCopies(refs: MessageRef[]): MessageRef[] {
  const latest = new Map<string, MessageRef>();
  for (const ref of refs) if (ref.kind === 'dm') latest.set(ref.channel, ref);
  return [...latest.values()];
}
