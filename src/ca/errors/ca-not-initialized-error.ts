import { AccessBotError } from '../../errors/access-bot-error';

export class CaNotInitializedError extends AccessBotError {
  readonly code = 'CA_NOT_INITIALIZED';
  override readonly status = 503;
}
