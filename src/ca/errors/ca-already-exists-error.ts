import { AccessBotError } from '../../errors/access-bot-error';

export class CaAlreadyExistsError extends AccessBotError {
  readonly code = 'CA_EXISTS';
  override readonly status = 409;
}
