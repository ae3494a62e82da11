import { AccessBotError } from '../../errors/access-bot-error';

/** A PagerDuty webhook that is signed but not a v3 event we can read. */
export class PagerDutyWebhookError extends AccessBotError {
  readonly code = 'PAGERDUTY_WEBHOOK_INVALID';
  override readonly status = 400;
}
