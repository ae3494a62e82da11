import { AccessBotError } from '../../errors/access-bot-error';

/** PagerDuty refused the API key (401) or the key may not do this (403): PAGERDUTY_TOKEN needs fixing. */
export class PagerDutyAuthError extends AccessBotError {
  readonly code = 'PAGERDUTY_AUTH';
  override readonly status = 502;

  constructor(
    readonly what: string,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(
      httpStatus === 401
        ? `PagerDuty refused the API key (${what}): check PAGERDUTY_TOKEN`
        : `The PagerDuty API key may not ${what} (HTTP 403): give it the access docs/pagerduty.md lists`,
      options,
    );
  }
}
