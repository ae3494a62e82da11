import { AccessBotError } from '../../errors/access-bot-error';

/** A public CA file (certificate, public key, trust file) other users can write to. */
export class CaFilePermissionError extends AccessBotError {
  readonly code = 'CA_FILE_PERMISSIONS';
  override readonly status = 500;
}
