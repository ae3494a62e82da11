import type { AppContext } from '../app/app-context';
import type { HttpMount } from '../app/bot-process';
import { RateLimitedAudit } from '../audit/rate-limited-audit';
import type { JiraSettings } from '../config/env';
import type { Policy } from '../config/policy';
import type { AccessRequest } from '../engine/types';
import type { Directory } from '../requests/ports';
import { JiraClient } from './jira-client';
import { JiraDecisions } from './jira-decisions';
import { JiraFollowQueue } from './jira-follow-queue';
import { JiraFollowingNotifier } from './jira-following-notifier';
import { JiraIssueState } from './jira-issue-state';
import { JiraIssues } from './jira-issues';
import { JiraPoller } from './jira-poller';
import { checkJira, type JiraCheckResult } from './jira-startup-check';
import { JIRA_WEBHOOK_PATH, jiraWebhookRouter } from './jira-webhook-route';

export interface JiraIntegrationOptions {
  /** How long a create without an answer may take to show in Jira's search (default 60 s). */
  indexLagMs?: number;
  /** Follow-up tries and the first backoff (default 8 and 2 s). */
  attempts?: number;
  backoffMs?: number;
}

export interface JiraIntegration {
  readonly client: JiraClient;
  readonly issues: JiraIssues;
  readonly decisions: JiraDecisions;
  readonly follow: JiraFollowQueue;
  readonly poller: JiraPoller;
  /** For startBotProcess: mounts POST /webhooks/jira. */
  readonly mount: HttpMount;
  /** The start-up check: credentials, then each Jira workflow's project, issue type and statuses. */
  check(): Promise<JiraCheckResult>;
  /** The bot's side: runs the follow-up queue and the poll. Returns the stop function. */
  startBot(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** How long the requester's first DM waits for the issue key (the follow-up queue creates the issue). */
const ISSUE_WAIT_MS = 3_000;

/** Workflows whose approval names Jira. */
export function jiraWorkflows(policy: Policy): string[] {
  return [...policy.workflows.values()].filter((w) => w.approval.jira).map((w) => w.name);
}

/**
 * Jira for a process: wraps `ctx.notifier` so every change of a request on a Jira workflow enqueues
 * a follow-up of its issue (any role may enqueue; the bot runs the queue), and turns off the Slack
 * DM fallback for Jira-only workflows. The bot also mounts the webhook and polls.
 */
export function createJiraIntegration(ctx: AppContext, settings: JiraSettings, options: JiraIntegrationOptions = {}): JiraIntegration {
  const logger = ctx.logger.child({ component: 'jira' });
  const client = new JiraClient({ url: settings.url, email: settings.email, apiToken: settings.apiToken, timeoutMs: settings.timeoutMs, logger, calls: ctx.externalCalls });
  const state = new JiraIssueState(ctx.redis, ctx.keys);
  const issues = new JiraIssues({
    client,
    state,
    service: ctx.service,
    policy: () => ctx.policy,
    directory: ctx.directoryPort,
    oncall: ctx.oncallPort,
    slackLink: (id) => ctx.slackMessageLink?.(id) ?? Promise.resolve(undefined),
    logger,
    ...(options.indexLagMs !== undefined ? { indexLagMs: options.indexLagMs } : {}),
  });
  const follow = new JiraFollowQueue({
    connection: ctx.bullConnection,
    redisPrefix: ctx.env.REDIS_PREFIX,
    state,
    audit: ctx.audit,
    logger,
    follow: (id) => issues.follow(id),
    remind: (id, version) => issues.remind(id, version),
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
  });
  const approvesInJira = (request: AccessRequest) => ctx.policy.workflows.get(request.workflow)?.approval.jira !== undefined;
  ctx.notifier = new JiraFollowingNotifier(ctx.notifier, (r, kind) => follow.enqueue(r, kind), approvesInJira, logger, async (request) => {
    const until = Date.now() + ISSUE_WAIT_MS;
    for (;;) {
      const stored = await ctx.store.get(request.id);
      if (stored?.jiraIssue || Date.now() >= until) return stored?.jiraIssue ? stored : request;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  ctx.jiraEnabled = true;

  let self: Promise<string | undefined> | undefined;
  const selfAccountId = () => {
    self ??= client.myself().then(
      (me) => me.accountId,
      (err: unknown) => {
        self = undefined;
        throw err;
      },
    );
    return self;
  };
  const decisions = new JiraDecisions({
    client,
    issues,
    state,
    store: ctx.store,
    service: ctx.service,
    policy: () => ctx.policy,
    userIdByEmail: async (email) => {
      const directory = ctx.directory as Directory & { userIdByEmail?: (email: string) => Promise<string | undefined> };
      return directory.userIdByEmail ? directory.userIdByEmail(email) : undefined;
    },
    selfAccountId,
    logger,
  });
  const poller = new JiraPoller({
    client,
    redis: ctx.redis,
    keys: ctx.keys,
    handle: (key) => decisions.onIssue(key),
    intervalMs: settings.pollIntervalMs,
    logger,
  });
  const refusals = new RateLimitedAudit(ctx.audit);
  return {
    client,
    issues,
    decisions,
    follow,
    poller,
    mount: (http) => {
      http.mount(
        JIRA_WEBHOOK_PATH,
        jiraWebhookRouter({
          secret: settings.webhookSecret,
          redis: ctx.redis,
          keys: ctx.keys,
          audit: ctx.audit,
          refusals,
          logger: logger.child({ component: 'jira-webhook' }),
          handle: (issueId) => decisions.onIssue(issueId),
        }),
      );
    },
    check: () => checkJira(client, ctx.policy, logger),
    async startBot() {
      follow.start();
      await follow.waitUntilReady();
      poller.start();
      return async () => {
        await poller.stop();
        await follow.close();
      };
    },
    close: () => follow.close(),
  };
}
