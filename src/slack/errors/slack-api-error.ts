import { AccessBotError } from '../../errors/access-bot-error';

/**
 * A Web API method answered `ok: false` (channel_not_found, not_in_channel, expired_trigger_id…).
 * `slackError` is Slack's own error string, for callers that react to a specific one.
 */
export class SlackApiError extends AccessBotError {
  readonly code = 'SLACK_API_ERROR';
  override readonly status = 502;

  constructor(
    readonly method: string,
    readonly slackError: string,
    options?: { cause?: unknown },
  ) {
    super(`Slack refused ${method}: ${slackError}`, options);
  }

  /** Slack's error string from an error thrown by @slack/web-api, or undefined when it is not a Web API answer. */
  static slackErrorOf(err: unknown): string | undefined {
    if (typeof err !== 'object' || err === null || !('data' in err)) return undefined;
    const data = (err as { data?: unknown }).data;
    if (typeof data !== 'object' || data === null) return undefined;
    const error = (data as { error?: unknown }).error;
    return typeof error === 'string' ? error : undefined;
  }
}
