import { AccessBotError } from '../../errors/access-bot-error';

/** A CA private key file other users can read: refusing to use it is the only safe answer. */
export class CaKeyPermissionError extends AccessBotError {
  readonly code = 'CA_KEY_PERMISSIONS';
  override readonly status = 500;
}
