import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rateKeyOf, tierOf } from '../slack/slack-rate-tiers';

/**
 * A loopback stand-in for the Slack Web API, for `npm run bench` (it ships in dist, so it cannot be
 * test/fakes/slack-api.ts): the methods the bot and worker call, answered cheaply, and, when
 * `rateScale` is set, Slack's published per-method tiers enforced (× the scale) with 429 and
 * Retry-After. Calls are counted here, at the HTTP boundary, and the moments that matter recorded:
 * each certificate DM, each chat.update, each reply to a response_url.
 */

export interface BenchSlackUser {
  id: string;
  email: string;
  groups: string[];
}

interface Bucket {
  tokens: number;
  at: number;
}

export class BenchSlackApi {
  /** Accepted calls by method. */
  readonly calls = new Map<string, number>();
  /** 429 answers by method. */
  readonly rateLimited = new Map<string, number>();
  /** Request id → when its certificate DM arrived. */
  readonly certificateAt = new Map<string, number>();
  /** Every chat.update's arrival. */
  readonly updateTimes: number[] = [];
  /** response_url id → when the bot answered it. */
  readonly responses = new Map<string, number>();
  /** Approval messages in channels: request id → ts. */
  readonly channelCopies = new Map<string, { channel: string; ts: string }>();
  rateScale: number | undefined;
  private readonly buckets = new Map<string, Bucket>();
  private readonly users = new Map<string, BenchSlackUser>();
  private readonly groups = new Map<string, { id: string; handle: string; members: string[] }>();
  private server: Server | undefined;
  private seq = 0;

  constructor(users: BenchSlackUser[], groups: Array<{ id: string; handle: string }>) {
    for (const g of groups) this.groups.set(g.id, { ...g, members: [] });
    for (const u of users) {
      this.users.set(u.id, u);
      for (const ref of u.groups) {
        const group = [...this.groups.values()].find((g) => g.id === ref || g.handle === ref);
        group?.members.push(u.id);
      }
    }
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `${this.base}/api/`;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  responseUrl(id: string): string {
    return `${this.base}/response/${id}`;
  }

  totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  resetCounts(): void {
    this.calls.clear();
    this.rateLimited.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const response = /^\/response\/([A-Za-z0-9-]+)$/.exec(path);
    if (response?.[1]) {
      if (!this.responses.has(response[1])) this.responses.set(response[1], Date.now());
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const method = /^\/api\/([A-Za-z0-9._]+)$/.exec(path)?.[1];
    if (!method) {
      res.writeHead(404).end();
      return;
    }
    const args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
    const retryAfter = this.take(method, typeof args.channel === 'string' ? args.channel : undefined);
    if (retryAfter !== undefined) {
      this.rateLimited.set(method, (this.rateLimited.get(method) ?? 0) + 1);
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) }).end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, ...this.answer(method, args) }));
  }

  /** Undefined when the call may go; else the Retry-After seconds. */
  private take(method: string, channel: string | undefined): number | undefined {
    if (this.rateScale === undefined) return undefined;
    const tier = tierOf(method, this.rateScale);
    const key = rateKeyOf(method, channel);
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: tier.burst, at: now };
    bucket.tokens = Math.min(tier.burst, bucket.tokens + ((now - bucket.at) * tier.perMinute) / 60_000);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / tier.perMinute));
  }

  private dmOf(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { team_id: 'TBENCH', user_id: 'UBOT', bot_id: 'BBOT', team: 'bench', url: 'https://bench.slack.com/' };
      case 'users.info': {
        const user = this.users.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        const name = user.email.split('@')[0];
        return {
          user: { id: user.id, name, real_name: name, deleted: false, is_bot: false, is_email_confirmed: true, tz: 'UTC', profile: { email: user.email, real_name: name, display_name: name } },
        };
      }
      case 'usergroups.list':
        return {
          usergroups: [...this.groups.values()].map((g) => ({ id: g.id, handle: g.handle, name: g.handle, ...(args.include_users ? { users: g.members } : {}) })),
        };
      case 'usergroups.users.list':
        return { users: this.groups.get(String(args.usergroup))?.members ?? [] };
      case 'conversations.open':
        return { channel: { id: this.dmOf(String(args.users)) } };
      case 'chat.postMessage': {
        const raw = String(args.channel);
        const channel = /^[UW]/.test(raw) ? this.dmOf(raw) : raw;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
        const blocks = typeof args.blocks === 'string' ? args.blocks : JSON.stringify(args.blocks ?? '');
        const id = /\bar-[a-z0-9]+/.exec(`${String(args.text ?? '')} ${blocks}`)?.[0];
        if (id && channel.startsWith('D') && blocks.includes('-cert-v01@openssh.com') && !this.certificateAt.has(id)) this.certificateAt.set(id, Date.now());
        if (id && channel.startsWith('C') && args.thread_ts === undefined) this.channelCopies.set(id, { channel, ts });
        return { channel, ts };
      }
      case 'chat.update':
        this.updateTimes.push(Date.now());
        return { channel: args.channel, ts: args.ts };
      case 'views.open':
      case 'views.update':
      case 'views.publish':
        return { view: { id: `V${++this.seq}`, hash: `h${this.seq}` } };
      default:
        return {};
    }
  }
}

function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('json')) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  return out;
}
