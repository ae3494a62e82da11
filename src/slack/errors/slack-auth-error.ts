import { AccessBotError } from '../../errors/access-bot-error';

/** Slack refused the bot token at start (auth.test), so nothing the bot does would work. */
export class SlackAuthError extends AccessBotError {
  readonly code = 'SLACK_AUTH_FAILED';
  override readonly status = 502;

  constructor(readonly slackError: string, options?: { cause?: unknown }) {
    super(`Slack rejected the bot token (${slackError}): check SLACK_BOT_TOKEN and that the app is installed in the workspace`, options);
  }
}
