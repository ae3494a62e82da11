import type { webApi } from '@slack/bolt';
import type { Logger } from '../log/logger';
import { SlackCallStats } from './slack-call-stats';
import { rateKeyOf, tierOf, type SlackRateTier } from './slack-rate-tiers';

/** What the WebClient calls to send a request (its `fetch` option). */
type Fetch = NonNullable<webApi.WebClientOptions['fetch']>;

interface Waiter {
  priority: boolean;
  resolve: () => void;
}

interface Bucket {
  tier: SlackRateTier;
  tokens: number;
  refilledAt: number;
  /** Slack said 429 with Retry-After: nothing goes out on this bucket before then. */
  pausedUntil: number;
  waiters: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

export interface SlackRateGateOptions {
  logger: Logger;
  /** Multiplies Slack's published tiers (SLACK_RATE_SCALE): for apps Slack granted more, and the benchmark. */
  scale?: number;
  /** How long one call may keep answering 429 before the caller is told (its own retry takes over). Default 15 min. */
  maxRateLimitedMs?: number;
  /** Per HTTP attempt, once the call has its turn (the WebClient's own timeout would also count the wait). */
  requestTimeoutMs?: number;
  stats?: SlackCallStats;
  clock?: () => number;
}

/**
 * Paces this process's Slack Web API calls to Slack's published per-method tiers (token buckets;
 * chat.postMessage per channel) and honours 429 Retry-After for that method alone. It sits in the
 * WebClient's `fetch`, below the WebClient's queue: a 429 is retried here after Retry-After and
 * never reaches the WebClient, so the WebClient neither pauses every method for one method's
 * limit nor adds its own retries on top (its clients set rejectRateLimitedCalls). Clients of the
 * priority lane (certificate delivery) go before others waiting on the same bucket.
 *
 * Limits are per workspace; each process paces on its own, so replicas together can exceed a tier,
 * and Slack's 429s (honoured here) are then the backstop.
 */
export class SlackRateGate {
  readonly stats: SlackCallStats;
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: () => number;
  private readonly scale: number;
  private readonly maxRateLimitedMs: number;
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger;

  constructor(options: SlackRateGateOptions) {
    this.stats = options.stats ?? new SlackCallStats();
    this.clock = options.clock ?? Date.now;
    this.scale = options.scale ?? 1;
    this.maxRateLimitedMs = options.maxRateLimitedMs ?? 15 * 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.logger = options.logger.child({ component: 'slack-rate-gate' });
  }

  /** The `fetch` for a WebClient: `priority` for the certificate delivery lane. */
  fetch(lane: 'normal' | 'priority' = 'normal', base: Fetch = (url, init) => globalThis.fetch(url, init)): Fetch {
    const priority = lane === 'priority';
    return async (input, init) => {
      const url = typeof input === 'string' ? input : input.href;
      const method = /\/([A-Za-z0-9._]+)$/.exec(new URL(url).pathname)?.[1] ?? 'unknown';
      const key = rateKeyOf(method, method === 'chat.postMessage' ? channelOf(init?.body) : undefined);
      const started = this.clock();
      for (;;) {
        this.stats.startWaiting();
        try {
          await this.acquire(key, method, priority);
        } finally {
          this.stats.stopWaiting();
        }
        this.stats.called(method);
        const { signal: _ignored, ...rest } = init ?? {};
        const response = await base(url, { ...rest, signal: AbortSignal.timeout(this.requestTimeoutMs) });
        if (response.status !== 429) return response;
        this.stats.rateLimited(method);
        const retryAfterMs = Math.max(1, Number(response.headers.get('retry-after')) || 1) * 1000;
        this.pause(key, method, retryAfterMs);
        if (this.clock() + retryAfterMs - started > this.maxRateLimitedMs) {
          this.logger.warn({ method, retryAfterMs }, 'Slack kept answering 429; handing the call back');
          return response;
        }
        await response.arrayBuffer().catch(() => undefined);
        this.logger.info({ method, retryAfterMs }, 'Slack answered 429; retrying after Retry-After');
      }
    };
  }

  private bucket(key: string, method: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const tier = tierOf(method, this.scale);
      bucket = { tier, tokens: tier.burst, refilledAt: this.clock(), pausedUntil: 0, waiters: [], timer: undefined };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private refill(bucket: Bucket, now: number): void {
    const gained = ((now - bucket.refilledAt) * bucket.tier.perMinute) / 60_000;
    bucket.tokens = Math.min(bucket.tier.burst, bucket.tokens + gained);
    bucket.refilledAt = now;
  }

  private acquire(key: string, method: string, priority: boolean): Promise<void> {
    const bucket = this.bucket(key, method);
    const now = this.clock();
    this.refill(bucket, now);
    if (bucket.waiters.length === 0 && now >= bucket.pausedUntil && bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const waiter = { priority, resolve };
      const at = priority ? bucket.waiters.findIndex((w) => !w.priority) : -1;
      if (at === -1) bucket.waiters.push(waiter);
      else bucket.waiters.splice(at, 0, waiter);
      this.schedule(key, bucket);
    });
  }

  private pause(key: string, method: string, ms: number): void {
    const bucket = this.bucket(key, method);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, this.clock() + ms);
    bucket.tokens = 0;
  }

  private schedule(key: string, bucket: Bucket): void {
    if (bucket.timer) return;
    const now = this.clock();
    const untilToken = bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) * 60_000) / bucket.tier.perMinute;
    const wait = Math.max(bucket.pausedUntil - now, untilToken, 1);
    bucket.timer = setTimeout(() => {
      bucket.timer = undefined;
      this.drain(key, bucket);
    }, Math.ceil(wait));
  }

  private drain(key: string, bucket: Bucket): void {
    const now = this.clock();
    this.refill(bucket, now);
    while (bucket.waiters.length > 0 && now >= bucket.pausedUntil && bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.waiters.shift()?.resolve();
    }
    if (bucket.waiters.length > 0) this.schedule(key, bucket);
  }
}

/** The `channel` of a form-encoded (or JSON) Web API body. */
function channelOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return body instanceof URLSearchParams ? (body.get('channel') ?? undefined) : undefined;
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { channel?: unknown };
      return typeof parsed.channel === 'string' ? parsed.channel : undefined;
    } catch {
      return undefined;
    }
  }
  return new URLSearchParams(body).get('channel') ?? undefined;
}
