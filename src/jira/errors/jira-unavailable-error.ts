import { AccessBotError } from '../../errors/access-bot-error';

/** Jira could not be asked: no answer in time, a network failure, a 5xx or a 429. Worth retrying. */
export class JiraUnavailableError extends AccessBotError {
  readonly code = 'JIRA_UNAVAILABLE';
  override readonly status = 503;

  constructor(
    readonly what: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Jira could not be reached (${what}: ${reason})`, options);
  }
}
