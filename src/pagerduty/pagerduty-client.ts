import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { api } from '@pagerduty/pdjs';
import type { z } from 'zod';
import type { Logger } from '../log/logger';
import { pathTemplate, type CallOutcome, type ExternalCallMetrics } from '../metrics/external-call-metrics';
import { PagerDutyApiError } from './errors/pagerduty-api-error';
import { PagerDutyAuthError } from './errors/pagerduty-auth-error';
import { PagerDutyResponseError } from './errors/pagerduty-response-error';
import { PagerDutyUnavailableError } from './errors/pagerduty-unavailable-error';
import { ErrorBodySchema, PageSchema } from './pagerduty-schemas';

export type Query = Record<string, string | string[]>;

export interface PagerDutyClientOptions {
  token: string;
  /** `https://api.pagerduty.com`, `https://api.eu.pagerduty.com`, or a loopback fake. */
  apiUrl: string;
  /** The `From:` header PagerDuty requires on writes (incident notes): an email of a user in the account. */
  fromEmail?: string;
  logger: Logger;
  /** One attempt's limit; the request is aborted after it. Default 3 s. */
  timeoutMs?: number;
  /** Extra attempts for reads that failed for want of an answer (timeout, network, 5xx, 429), all within twice the timeout. Default 2. */
  readRetries?: number;
  /** First backoff between read attempts; doubles each time, with jitter. Default 200 ms. */
  backoffMs?: number;
  /** The most items one list walks (pages of 100); PagerDuty's offset pagination stops at 10,000. Default 2,000. */
  maxListItems?: number;
  /** Counts every attempt (access_bot_external_calls_total{service="pagerduty"}). */
  calls?: ExternalCallMetrics;
}

const PAGE_LIMIT = 100;
/**
 * pdjs retries a 429 itself, three times, after `retryTimeout` each, on a timer nobody can cancel.
 * Kept short so an aborted call leaves no timer running for long; our own retry honours Retry-After.
 */
const PDJS_RETRY_TIMEOUT_MS = 100;

interface Answer {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

/**
 * PagerDuty REST v2 through @pagerduty/pdjs, with its traps handled, measured on pdjs 2.2:
 * - `url` (never `server`, which forces https, nor `endpoint`, which always goes to api.pagerduty.com),
 *   so the EU service and loopback fakes work;
 * - our own offset/limit/more paging (pdjs `.all()` crashes after the first page on hosts not ending `.com`);
 * - the HTTP status checked (pdjs resolves on 4xx and 5xx);
 * - an AbortSignal per attempt (pdjs's `requestTimeout` aborts nothing, and its timer outlives a
 *   failed call by 30 s: `requestTimeout: 0` turns it off);
 * - array parameters written `name[]`;
 * - reads retried with backoff, writes never (a note posted twice is worse than one missing).
 */
export class PagerDutyClient {
  private readonly timeoutMs: number;
  private readonly readRetries: number;
  private readonly backoffMs: number;
  private readonly maxListItems: number;
  private readonly base: string;
  private readonly logger: Logger;
  /**
   * Our own agent, without keep-alive: pdjs leaves the bodies of the 429s it retries unread, and a
   * pooled socket holding one outlives the call. PagerDuty is asked a few times per decision, so a
   * connection per call costs little.
   */
  private readonly agent: HttpAgent;

  constructor(private readonly options: PagerDutyClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.readRetries = options.readRetries ?? 2;
    this.backoffMs = options.backoffMs ?? 200;
    this.maxListItems = options.maxListItems ?? 2_000;
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.logger = options.logger.child({ component: 'pagerduty' });
    this.agent = this.base.startsWith('https:') ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  }

  /** GET one resource: `get('/incidents/Q1', 'incident', IncidentSchema)`. Undefined on 404. */
  async getOne<T>(path: string, key: string, schema: z.ZodType<T>, what: string, query: Query = {}): Promise<T | undefined> {
    const answer = await this.read(path, query, what, [404]);
    if (answer.status === 404) return undefined;
    const body = answer.body as Record<string, unknown> | undefined;
    const parsed = schema.safeParse(body?.[key]);
    if (!parsed.success) throw new PagerDutyResponseError(what, `no readable "${key}"`);
    return parsed.data;
  }

  /** GET every page of a list: offset/limit/more, 100 a page, up to the item cap. */
  async list<T>(path: string, key: string, schema: z.ZodType<T>, what: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    for (let offset = 0; ; ) {
      const answer = await this.read(path, { ...query, limit: String(PAGE_LIMIT), offset: String(offset) }, what);
      const body = answer.body as Record<string, unknown> | undefined;
      const page = PageSchema.safeParse(body);
      const raw = body?.[key];
      if (!page.success || !Array.isArray(raw)) throw new PagerDutyResponseError(what, `no "${key}" list`);
      for (const entry of raw) {
        const parsed = schema.safeParse(entry);
        if (!parsed.success) throw new PagerDutyResponseError(what, `an entry of "${key}" is not readable`);
        items.push(parsed.data);
      }
      if (page.data.more !== true || raw.length === 0) return items;
      offset += raw.length;
      if (items.length >= this.maxListItems) {
        this.logger.warn({ what, items: items.length }, 'PagerDuty list cut at the item cap');
        return items;
      }
    }
  }

  /** POST with the `From:` header; not retried. */
  async post<T>(path: string, data: object, key: string, schema: z.ZodType<T>, what: string): Promise<T> {
    const from = this.options.fromEmail;
    if (!from) throw new PagerDutyApiError(what, 400, 'PAGERDUTY_FROM_EMAIL is not set; PagerDuty needs a From header on writes');
    const answer = await this.attempt('POST', path, {}, what, data, { From: from });
    this.check(answer, what);
    const parsed = schema.safeParse((answer.body as Record<string, unknown> | undefined)?.[key]);
    if (!parsed.success) throw new PagerDutyResponseError(what, `no readable "${key}"`);
    return parsed.data;
  }

  /**
   * A GET with retries, all within twice the timeout: a person waiting on a decision waits for a
   * bounded time whatever PagerDuty does. Gives up with the first failure's reason.
   */
  private async read(path: string, query: Query, what: string, allowed: number[] = []): Promise<Answer> {
    const deadline = Date.now() + 2 * this.timeoutMs;
    let first: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.attempt('GET', path, query, what, undefined, {}, Math.min(this.timeoutMs, deadline - Date.now()));
        if (allowed.includes(answer.status)) return answer;
        this.check(answer, what);
        return answer;
      } catch (err) {
        first ??= err;
        const wait = err instanceof PagerDutyUnavailableError ? Math.max(this.backoffMs * 2 ** attempt * (0.75 + Math.random() / 2), retryAfterOf(err)) : 0;
        if (!(err instanceof PagerDutyUnavailableError) || attempt >= this.readRetries || Date.now() + wait + 50 >= deadline) {
          this.logger.warn({ what, reason: reasonOf(first), attempts: attempt + 1 }, 'PagerDuty call failed');
          throw first;
        }
        this.logger.debug({ what, reason: err.reason, attempt: attempt + 1, waitMs: Math.round(wait) }, 'PagerDuty call failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Turns a non-2xx answer into the error its status means. */
  private check(answer: Answer, what: string): void {
    const { status } = answer;
    if (status >= 200 && status < 300) return;
    if (status === 401 || status === 403) throw new PagerDutyAuthError(what, status);
    if (status === 429)
      throw new PagerDutyUnavailableError(what, 'rate limited (429)', answer.retryAfterMs !== undefined ? { cause: { retryAfterMs: answer.retryAfterMs } } : undefined);
    if (status >= 500) throw new PagerDutyUnavailableError(what, `HTTP ${status}`);
    const parsed = ErrorBodySchema.safeParse(answer.body);
    const detail = parsed.success ? [parsed.data.error.message, ...(parsed.data.error.errors ?? [])].filter(Boolean).join('; ') : 'no error detail';
    throw new PagerDutyApiError(what, status, detail.slice(0, 300));
  }

  /** One HTTP exchange, counted by method, path (ids replaced) and outcome. */
  private attempt(method: 'GET' | 'POST', path: string, query: Query, what: string, data?: object, headers: Record<string, string> = {}, timeoutMs = this.timeoutMs): Promise<Answer> {
    const run = () => this.exchange(method, path, query, what, data, headers, timeoutMs);
    if (!this.options.calls) return run();
    const outcomeOfStatus = (status: number): CallOutcome => (status === 429 ? 'rate_limited' : status >= 500 ? 'unavailable' : status >= 400 ? 'error' : 'ok');
    return this.options.calls.track('pagerduty', `${method} ${pathTemplate(path)}`, run, (answer) => outcomeOfStatus(answer.status), (err) =>
      err instanceof PagerDutyUnavailableError ? (/429/.test(err.message) ? 'rate_limited' : 'unavailable') : 'error',
    );
  }

  /** One HTTP exchange through pdjs, aborted after the timeout; never leaves a timer of ours behind. */
  private async exchange(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    what: string,
    data?: object,
    headers: Record<string, string> = {},
    timeoutMs = this.timeoutMs,
  ): Promise<Answer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new PagerDutyUnavailableError(what, `no answer within ${formatMs(timeoutMs)}`));
      }, timeoutMs);
    });
    const call = api({
      token: this.options.token,
      tokenType: 'token',
      url: `${this.base}${path}`,
      method,
      headers,
      signal: controller.signal,
      // node-fetch (under pdjs's cross-fetch) takes a Node agent; RequestInit does not know it.
      ...({ agent: this.agent } as object),
      // pdjs's own timer neither aborts nor gets cleared on failure; ours does both.
      requestTimeout: 0,
      retryTimeout: PDJS_RETRY_TIMEOUT_MS,
      ...(Object.keys(query).length > 0 ? { queryParameters: query } : {}),
      ...(data !== undefined ? { data } : {}),
    });
    // pdjs keeps going after an abort (its 429 retry); its late rejection must not go unhandled.
    call.catch(() => undefined);
    try {
      const response = await Promise.race([call, timedOut]);
      return { status: response.status, body: response.data, ...retryAfter(response.headers) };
    } catch (err) {
      if (err instanceof PagerDutyUnavailableError) throw err;
      // pdjs rejects with the Response itself when the body is not JSON.
      if (isResponse(err)) {
        if (err.status >= 500 || err.status === 429) throw new PagerDutyUnavailableError(what, `HTTP ${err.status}`);
        if (err.status === 401 || err.status === 403) throw new PagerDutyAuthError(what, err.status);
        if (err.status >= 400) throw new PagerDutyApiError(what, err.status, 'no error detail');
        throw new PagerDutyResponseError(what, 'not JSON');
      }
      throw new PagerDutyUnavailableError(what, networkReason(err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

function isResponse(value: unknown): value is { status: number } {
  return typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'number' && 'headers' in value;
}

function retryAfter(headers: { get(name: string): string | null } | undefined): { retryAfterMs?: number } {
  const value = headers?.get('retry-after');
  const seconds = value === null || value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}

function retryAfterOf(err: PagerDutyUnavailableError): number {
  const cause = err.cause as { retryAfterMs?: unknown } | undefined;
  return typeof cause?.retryAfterMs === 'number' ? cause.retryAfterMs : 0;
}

function networkReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | undefined;
  if (e?.name === 'AbortError') return 'aborted';
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.message === 'string' ? e.message.slice(0, 200) : 'network error';
}

export function reasonOf(err: unknown): string {
  if (err instanceof PagerDutyUnavailableError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
