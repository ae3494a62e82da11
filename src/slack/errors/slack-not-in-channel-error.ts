import { AccessBotError } from '../../errors/access-bot-error';

/**
 * A post to a workflow's channel failed because the bot cannot see the channel: Slack answers
 * `not_in_channel` (public channel, bot not a member) or `channel_not_found` (private channel the
 * bot was not invited to, or a wrong id). The fix is on the workspace side, so the message says it.
 */
export class SlackNotInChannelError extends AccessBotError {
  readonly code = 'SLACK_NOT_IN_CHANNEL';
  override readonly status = 502;

  constructor(
    readonly channel: string,
    readonly slackError: string,
    readonly purpose: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Slack cannot post the ${purpose} in channel ${channel} (${slackError}): invite the bot to that channel ` +
        `(type "/invite @access-bot" there, using your app's name), or fix the channel id in the workflow file.`,
      options,
    );
  }
}
