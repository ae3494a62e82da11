import { AccessBotError } from '../../errors/access-bot-error';

/** Jira answered with a 4xx other than 401/403/404: a field it refuses, a transition that does not exist. */
export class JiraApiError extends AccessBotError {
  readonly code = 'JIRA_API_ERROR';
  override readonly status = 502;

  constructor(
    readonly what: string,
    readonly httpStatus: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Jira refused ${what} (HTTP ${httpStatus}: ${detail})`, options);
  }
}
