import type { Counter, Histogram } from 'prom-client';
import type { MetricsRegistry } from './metrics-registry';

/**
 * How one call to an outside service ended: `ok`; `error` (the service answered and refused:
 * Slack's `ok: false`, a 4xx); `rate_limited` (429); `unavailable` (5xx, timeout, network).
 */
export type CallOutcome = 'ok' | 'error' | 'rate_limited' | 'unavailable';

type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * Calls to Slack, PagerDuty and Jira, counted at the client boundary: one count per HTTP attempt,
 * so a call its client retried three times counts four, and a 429 shows as what Slack saw.
 * `method` is the API method (`chat.postMessage`) or a path with its ids replaced (`GET /incidents/:id`):
 * never a value that grows with use, which would make a series per request.
 */
export class ExternalCallMetrics {
  private readonly calls: Counter<'service' | 'method' | 'outcome'>;
  private readonly seconds: Histogram<'service' | 'method'>;

  constructor(metrics: MetricsRegistry) {
    this.calls = metrics.counter({
      name: 'external_calls_total',
      help: 'HTTP calls to Slack, PagerDuty and Jira by service, API method and outcome (ok, error, rate_limited, unavailable); retries count',
      labelNames: ['service', 'method', 'outcome'],
    });
    this.seconds = metrics.histogram({
      name: 'external_call_seconds',
      help: 'Duration of one HTTP call to an outside service, by service and API method',
      labelNames: ['service', 'method'],
    });
  }

  record(service: string, method: string, outcome: CallOutcome, seconds: number): void {
    this.calls.inc({ service, method, outcome });
    this.seconds.observe({ service, method }, seconds);
  }

  /** Runs `call` and records it; `outcomeOf` reads a result that is a failure without throwing. */
  async track<T>(service: string, method: string, call: () => Promise<T>, outcomeOf: (result: T) => CallOutcome = () => 'ok', errorOutcome: (err: unknown) => CallOutcome = () => 'unavailable'): Promise<T> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await call();
      this.record(service, method, outcomeOf(result), elapsed());
      return result;
    } catch (err) {
      this.record(service, method, errorOutcome(err), elapsed());
      throw err;
    }
  }

  /**
   * A `fetch` for a REST client (Jira): every call counted as `GET /rest/api/3/issue/:id`, its
   * outcome read from the HTTP status (2xx and 3xx ok, 429 rate_limited, 5xx unavailable, other 4xx error).
   */
  restFetch(service: string, inner: FetchLike = (url, init) => fetch(url, init)): FetchLike {
    return this.countedFetch(service, inner, (url, init) => `${(init?.method ?? 'GET').toUpperCase()} ${pathTemplate(url.pathname)}`, async (response) =>
      statusOutcome(response.status),
    );
  }

  /**
   * A `fetch` for Slack's WebClient (its `fetch` option): every Web API attempt counted by method
   * (the URL's last path segment). A 200 is read (from a clone) for Slack's `ok` flag.
   */
  slackFetch(inner: FetchLike = (url, init) => fetch(url, init)): FetchLike {
    return this.countedFetch('slack', inner, (url) => url.pathname.split('/').pop() || 'unknown', async (response) => {
      if (response.status !== 200) return statusOutcome(response.status);
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as { ok?: unknown } | undefined;
      return body?.ok === false ? 'error' : 'ok';
    });
  }

  private countedFetch(
    service: string,
    inner: FetchLike,
    methodOf: (url: URL, init?: RequestInit) => string,
    outcomeOf: (response: Response) => Promise<CallOutcome>,
  ): FetchLike {
    return async (url, init) => {
      const method = methodOf(new URL(String(url)), init);
      const started = process.hrtime.bigint();
      const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
      let response: Response;
      try {
        response = await inner(url, init);
      } catch (err) {
        this.record(service, method, 'unavailable', elapsed());
        throw err;
      }
      this.record(service, method, await outcomeOf(response), elapsed());
      return response;
    };
  }
}

function statusOutcome(status: number): CallOutcome {
  return status === 429 ? 'rate_limited' : status >= 500 ? 'unavailable' : status >= 400 ? 'error' : 'ok';
}

/** A path's ids replaced, for a method label: `/incidents/Q1ABC/notes` → `/incidents/:id/notes`. */
export function pathTemplate(path: string): string {
  return path
    .split('?')[0]!
    .split('/')
    .map((segment) => ((/\d/.test(segment) && !/^v?\d{1,2}$/.test(segment)) || /^[A-Z0-9]{5,}$/.test(segment) ? ':id' : segment))
    .join('/');
}
