import { AccessBotError } from '../../errors/access-bot-error';

/** A CA directory other users can write to: they could replace the keys or the trust file. */
export class CaDirectoryPermissionError extends AccessBotError {
  readonly code = 'CA_DIR_PERMISSIONS';
  override readonly status = 500;
}
