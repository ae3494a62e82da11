import { AccessBotError } from '../../errors/access-bot-error';

/** The start-up check found Jira unusable as configured (bad credentials). */
export class JiraSetupError extends AccessBotError {
  readonly code = 'JIRA_SETUP';
  override readonly status = 500;

  constructor(readonly problems: string[]) {
    super(`Jira is not usable as configured:\n  - ${problems.join('\n  - ')}`);
  }
}
