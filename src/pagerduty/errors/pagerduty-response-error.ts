import { AccessBotError } from '../../errors/access-bot-error';

/** PagerDuty answered 2xx with a body we cannot read (not JSON, or not the documented shape). */
export class PagerDutyResponseError extends AccessBotError {
  readonly code = 'PAGERDUTY_UNEXPECTED_RESPONSE';
  override readonly status = 502;

  constructor(
    readonly what: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`PagerDuty answered ${what} with an unexpected body (${detail})`, options);
  }
}
