import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createJiraIntegration, type JiraIntegration, type JiraIntegrationOptions } from '../../src/jira/jira-integration';
import { JIRA_WEBHOOK_PATH } from '../../src/jira/jira-webhook-route';
import { FakeJiraApi, type FakeJiraIssue, type FakeJiraOptions } from '../fakes/jira-api';
import type { FakeSlackUser, FakeSlackUsergroup } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { E2e } from '../slack/e2e-harness';

/**
 * The Slack end-to-end harness (a real `access-bot start`: Bolt, worker, Redis) with Jira on, its
 * real jira.js client pointed at the Jira fake, the webhook mounted on the bot, the follow-up queue
 * running. The poll is not on a timer here (JIRA_POLL_INTERVAL 1h): tests call `poll()`.
 */
export class JiraE2e {
  private constructor(
    readonly e2e: E2e,
    readonly jira: FakeJiraApi,
    readonly integration: JiraIntegration,
    readonly secret: string,
  ) {}

  static async start(options: {
    workflows: unknown;
    users: FakeSlackUser[];
    usergroups: FakeSlackUsergroup[];
    jira: FakeJiraOptions;
    env?: Record<string, string>;
    integration?: JiraIntegrationOptions;
  }): Promise<JiraE2e> {
    const jira = new FakeJiraApi(options.jira);
    const url = await jira.start();
    const secret = randomBytes(24).toString('base64url');
    let integration: JiraIntegration | undefined;
    const started = E2e.start({
      workflows: options.workflows,
      users: options.users,
      usergroups: options.usergroups,
      env: {
        JIRA_URL: url,
        JIRA_EMAIL: options.jira.apiUser.email,
        JIRA_API_TOKEN: jira.apiToken,
        JIRA_WEBHOOK_SECRET: secret,
        JIRA_POLL_INTERVAL: '1h',
        JIRA_TIMEOUT: '2s',
        RATE_LIMIT_REQUESTS: '1000/1m',
        ...options.env,
      },
      setup: async (ctx) => {
        const settings = ctx.env.jira;
        if (!settings) throw new Error('the Jira e2e env must turn Jira on');
        const created = createJiraIntegration(ctx, settings, { indexLagMs: 1_000, backoffMs: 100, attempts: 6, ...options.integration });
        integration = created;
        await created.check();
        const stop = await created.startBot();
        return { mounts: [created.mount], stop };
      },
    });
    let e2e: E2e;
    try {
      e2e = await started;
    } catch (err) {
      await jira.stop();
      throw err;
    }
    if (!integration) throw new Error('Jira integration not created');
    return new JiraE2e(e2e, jira, integration, secret);
  }

  get ctx() {
    return this.e2e.ctx;
  }

  get webhookUrl(): string {
    return `http://127.0.0.1:${this.e2e.bot.port}${JIRA_WEBHOOK_PATH}`;
  }

  /** Delivers a signed `jira:issue_updated` for the issue as it stands in the fake now. */
  deliver(keyOrId: string, options: { identifier?: string; signature?: string; secret?: string; claim?: { status?: string } } = {}) {
    const body = this.jira.webhookBody(keyOrId, options.claim);
    return FakeJiraApi.deliver(this.webhookUrl, body, options.secret ?? this.secret, options);
  }

  /** The request's issue in the fake, once created. */
  async issueOf(requestId: string, timeoutMs = 10_000): Promise<FakeJiraIssue> {
    return eventually(() => this.jira.issuesLabelled(`access-bot-${requestId}`)[0], timeoutMs, `the Jira issue of ${requestId}`);
  }

  /** Waits for a comment on the issue matching `pattern`. */
  async commentMatching(keyOrId: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return eventually(() => this.jira.commentTexts(keyOrId).find((t) => pattern.test(t)), timeoutMs, `a comment matching ${pattern} on ${keyOrId}`);
  }

  async waitForStatus(keyOrId: string, status: string, timeoutMs = 10_000): Promise<void> {
    await eventually(() => this.jira.issue(keyOrId)?.status === status, timeoutMs, `${keyOrId} to be ${status}`);
  }

  async stop(): Promise<void> {
    await this.e2e.stop();
    await this.jira.stop();
  }
}

/** A person's X.509 public key (PEM), as they would register it for Kubernetes access. */
export function x509PublicKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
