import { AccessBotError } from '../../errors/access-bot-error';

/**
 * An earlier create of this request's issue got no answer, and Jira's search does not show the
 * issue yet. Its index lags writes, so creating again now could make a second issue: wait and look again.
 */
export class JiraCreateUnconfirmedError extends AccessBotError {
  readonly code = 'JIRA_CREATE_UNCONFIRMED';
  override readonly status = 503;

  constructor(readonly requestId: string) {
    super(`The Jira issue of ${requestId} may have been created by an earlier attempt; looking again before creating another`);
  }
}
