import { AccessBotError } from '../../errors/access-bot-error';

/** Jira refused the credentials (401) or the account may not do this (403). */
export class JiraAuthError extends AccessBotError {
  readonly code = 'JIRA_AUTH';
  override readonly status = 502;

  constructor(
    readonly what: string,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(
      httpStatus === 401
        ? `Jira refused JIRA_EMAIL and JIRA_API_TOKEN (HTTP 401) for ${what}: check the token at id.atlassian.com and that it belongs to JIRA_EMAIL`
        : `Jira says the access-bot account may not do this (HTTP 403): ${what}`,
      options,
    );
  }
}
