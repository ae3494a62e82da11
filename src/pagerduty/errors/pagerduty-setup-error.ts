import { AccessBotError } from '../../errors/access-bot-error';

/** The start-up check found PagerDuty unusable as configured (bad key, a workflow naming a service or policy that does not exist). */
export class PagerDutySetupError extends AccessBotError {
  readonly code = 'PAGERDUTY_SETUP';
  override readonly status = 500;

  constructor(readonly problems: string[]) {
    super(`PagerDuty is not usable as configured:\n  - ${problems.join('\n  - ')}`);
  }
}
