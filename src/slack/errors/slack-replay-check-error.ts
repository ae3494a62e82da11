import { AccessBotError } from '../../errors/access-bot-error';

/** Whether a signed Slack request was already received could not be checked (Redis unreachable or slow): it is refused. */
export class SlackReplayCheckError extends AccessBotError {
  readonly code = 'SLACK_REPLAY_CHECK_UNAVAILABLE';
  override readonly status = 503;

  constructor(what: string, options?: { cause?: unknown }) {
    super(`Could not check whether this Slack request was already received (${what}); it was refused`, options);
  }
}
