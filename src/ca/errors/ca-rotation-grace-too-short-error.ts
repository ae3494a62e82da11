import { AccessBotError } from '../../errors/access-bot-error';

/**
 * `ca rotate` with a grace shorter than the longest certificate the workflows allow: servers that
 * follow the published trusted keys would stop accepting certificates the old CA signed before
 * they expire.
 */
export class CaRotationGraceTooShortError extends AccessBotError {
  readonly code = 'CA_ROTATION_GRACE_TOO_SHORT';
  override readonly status = 400;
}
