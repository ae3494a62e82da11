import { AccessBotError } from '../../errors/access-bot-error';

/** A CA file or directory owned by another user, who could replace it. */
export class CaFileOwnerError extends AccessBotError {
  readonly code = 'CA_FILE_OWNER';
  override readonly status = 500;
}
