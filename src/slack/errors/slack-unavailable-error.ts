import { AccessBotError } from '../../errors/access-bot-error';

/** The Slack Web API could not be reached or answered with an HTTP error. */
export class SlackUnavailableError extends AccessBotError {
  readonly code = 'SLACK_UNAVAILABLE';
  override readonly status = 503;

  constructor(what: string, options?: { cause?: unknown }) {
    super(`Slack could not be reached (${what}); try again shortly`, options);
  }
}
