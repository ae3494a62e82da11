import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/bench/bench-support';
import { FakeSlackApi, type FakeSlackMessage, type FakeSlackUser, type FakeSlackUsergroup } from '../fakes/slack-api';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { SlackRequests } from '../helpers/slack-requests';
import { certificateIn, hasButton, messageText } from '../slack/e2e-harness';

/**
 * Bot replicas and workers as production runs them: child processes of the built CLI on one Redis
 * (a private prefix), talking to the fake Slack. The test process holds its own AppContext on the
 * same prefix to read state and register keys.
 */

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
export const SIGNING_SECRET = 'cluster-signing-secret-5d0c1e';
export const APPROVALS = 'C0CLUSTER';


export interface Child {
  process: ChildProcess;
  role: 'serve' | 'worker';
  port: number;
  logs: () => string;
  exited: Promise<number | null>;
}

export class Cluster {
  readonly children: Child[] = [];

  private constructor(
    readonly app: TestApp,
    readonly fake: FakeSlackApi,
    private readonly apiUrl: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async create(options: { workflows: unknown; users: FakeSlackUser[]; usergroups: FakeSlackUsergroup[]; env?: Record<string, string>; redisUrl?: string }): Promise<Cluster> {
    const fake = new FakeSlackApi({ users: options.users, usergroups: options.usergroups });
    const apiUrl = await fake.start();
    const app = await testApp({ workflows: options.workflows, env: { ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}), RATE_LIMIT_REQUESTS: '1000/1m' } });
    return new Cluster(app, fake, apiUrl, options.env ?? {});
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      ...this.app.env,
      SLACK_BOT_TOKEN: this.fake.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.apiUrl,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WORKER_STALLED_CHECK: '1s',
      RECONCILE_INTERVAL: '1s',
      ...this.extraEnv,
      ...extra,
    };
  }

  async start(role: 'serve' | 'worker', extra: Record<string, string> = {}): Promise<Child> {
    const port = await freePort();
    const env = this.env({ ...(role === 'serve' ? { PORT: String(port) } : { WORKER_PORT: String(port), WORKER_CONCURRENCY: '8' }), ...extra });
    const child = spawn(process.execPath, [CLI, role], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let logs = '';
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const entry: Child = { process: child, role, port, logs: () => logs, exited };
    this.children.push(entry);
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${role} exited ${child.exitCode}: ${logs}`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r?.ok ? true : undefined;
      },
      30_000,
      `${role} ready`,
    );
    return entry;
  }

  slack(bot: Child): SlackRequests {
    return new SlackRequests({
      url: `http://127.0.0.1:${bot.port}/slack/events`,
      signingSecret: SIGNING_SECRET,
      teamId: this.fake.teamId,
      botUserId: this.fake.botUserId,
      botId: this.fake.botId,
      apiAppId: this.fake.appId,
    });
  }

  /** `/access <text>` as `userId` through `bot`; resolves once the bot answered on the response URL. */
  async command(bot: Child, userId: string, text: string): Promise<void> {
    const responseUrl = this.fake.responseUrl();
    const requests = this.slack(bot);
    const res = await requests.post(new URLSearchParams({ ...requests.slashCommandForm({ userId, text }), response_url: responseUrl }).toString(), 'application/x-www-form-urlencoded');
    if (res.status !== 200) throw new Error(`/access ${text} answered ${res.status}`);
    const id = responseUrl.split('/').at(-1);
    await this.fake.waitForResponse((r) => r.id === id, 20_000);
  }

  async approvalMessage(requestId: string): Promise<FakeSlackMessage> {
    return eventually(
      () => this.fake.messages.find((m) => m.channel === APPROVALS && m.threadTs === undefined && hasButton(m, 'access.approve', requestId)),
      20_000,
      `approval message for ${requestId}`,
    );
  }

  click(bot: Child, userId: string, message: FakeSlackMessage, requestId: string) {
    return this.slack(bot).blockActions({ userId, channelId: message.channel, messageTs: message.ts, actions: [{ actionId: 'access.approve', value: requestId, blockId: 'access.decision' }] });
  }

  /** Top-level approval messages per request, and certificate DMs per requester. */
  counts(requestIds: string[], requesters: string[]): { approvalMessages: number[]; certificateDms: number[] } {
    const messages = this.fake.messages;
    return {
      approvalMessages: requestIds.map((id) => messages.filter((m) => m.channel === APPROVALS && m.threadTs === undefined && messageText(m).includes(id)).length),
      certificateDms: requesters.map((user) => messages.filter((m) => m.channel === this.fake.dmChannelOf(user) && certificateIn(m) !== undefined).length),
    };
  }

  async stop(): Promise<void> {
    for (const c of this.children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.children.map((c) => c.exited)), new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    for (const c of this.children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await this.app.cleanup();
    await this.fake.stop();
  }
}
