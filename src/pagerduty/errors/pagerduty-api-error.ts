import { AccessBotError } from '../../errors/access-bot-error';

/** PagerDuty answered a request with a 4xx other than 401/403 (a bad parameter, an unknown id, a missing From). */
export class PagerDutyApiError extends AccessBotError {
  readonly code = 'PAGERDUTY_API_ERROR';
  override readonly status = 502;

  constructor(
    readonly what: string,
    readonly httpStatus: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`PagerDuty refused ${what} (HTTP ${httpStatus}: ${detail})`, options);
  }
}
