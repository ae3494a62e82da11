import { AccessBotError } from '../../errors/access-bot-error';

/** The Slack settings cannot make a working app (no mode chosen, HTTP mode without our HTTP server…). */
export class SlackTransportConfigError extends AccessBotError {
  readonly code = 'SLACK_TRANSPORT_CONFIG';
  override readonly status = 500;
}
