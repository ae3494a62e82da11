import { LogLevel, webApi } from '@slack/bolt';
import type { Logger } from '../log/logger';
import type { SlackRateGate } from './slack-rate-gate';
import { SlackApiError } from './errors/slack-api-error';
import { SlackUnavailableError } from './errors/slack-unavailable-error';

export type WebClient = webApi.WebClient;

/**
 * Runs one Web API call and turns its failure into our errors: `SlackApiError` when Slack answered
 * `ok: false` (its error string kept in `slackError`), `SlackUnavailableError` when it could not be
 * reached or answered with an HTTP error.
 */
export async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const slackError = SlackApiError.slackErrorOf(err);
    if (slackError !== undefined) throw new SlackApiError(method, slackError, { cause: err });
    throw new SlackUnavailableError(`${method}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export interface SlackWebClientOptions {
  botToken: string;
  /** Web API base, e.g. `http://127.0.0.1:4010/api/`; Slack's own when absent. */
  apiUrl?: string;
  logger: Logger;
  retryConfig?: webApi.RetryOptions;
  timeoutMs?: number;
  /** The HTTP client under the WebClient: ExternalCallMetrics.slackFetch() counts every attempt. */
  fetch?: webApi.WebClientOptions['fetch'];
  /** Paces calls to Slack's rate tiers and retries 429s after Retry-After (slack-rate-gate.ts). */
  gate?: SlackRateGate;
  /** `priority`: the certificate delivery lane, first in line on a shared rate bucket. */
  lane?: 'normal' | 'priority';
}

/**
 * A WebClient for processes without the Bolt app (the worker): same base URL, retries and timeout
 * as the bot's, logging through our logger (warnings and errors only: debug lines carry message bodies).
 */
export function createSlackWebClient(options: SlackWebClientOptions): WebClient {
  const log = options.logger.child({ component: 'slack-web-api' });
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (...parts: unknown[]) =>
    log[level](parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(' '));
  return new webApi.WebClient(options.botToken, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` } : {}),
    retryConfig: options.retryConfig ?? { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 4_000, randomize: true },
    timeout: options.timeoutMs ?? 10_000,
    ...(options.gate
      ? { fetch: options.gate.fetch(options.lane, options.fetch), rejectRateLimitedCalls: true, maxRequestConcurrency: 10_000 }
      : options.fetch
        ? { fetch: options.fetch }
        : {}),
    logLevel: LogLevel.WARN,
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: write('warn'),
      error: write('error'),
      setLevel: () => undefined,
      getLevel: () => LogLevel.WARN,
      setName: () => undefined,
    },
  });
}
