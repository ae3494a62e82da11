import { AccessBotError } from '../../errors/access-bot-error';

/**
 * PagerDuty could not be asked: no answer within the time allowed, a network failure, a 5xx or a
 * 429 after the retries. `reason` is the one line a person is told ("no answer within 4 s").
 */
export class PagerDutyUnavailableError extends AccessBotError {
  readonly code = 'PAGERDUTY_UNAVAILABLE';
  override readonly status = 503;

  constructor(
    readonly what: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`PagerDuty could not be reached (${what}: ${reason})`, options);
  }
}
