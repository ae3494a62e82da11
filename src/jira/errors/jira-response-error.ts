import { AccessBotError } from '../../errors/access-bot-error';

/** Jira answered 2xx with a body that is not what its API documents: nothing in it is used. */
export class JiraResponseError extends AccessBotError {
  readonly code = 'JIRA_RESPONSE';
  override readonly status = 502;

  constructor(
    readonly what: string,
    readonly detail: string,
  ) {
    super(`Jira's answer to ${what} was not understood (${detail})`);
  }
}
