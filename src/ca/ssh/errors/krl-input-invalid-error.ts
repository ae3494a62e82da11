import { AccessBotError } from '../../../errors/access-bot-error';

/** The data given to the KRL builder would produce a KRL that sshd rejects (and a KRL sshd cannot load makes it refuse every login). */
export class KrlInputInvalidError extends AccessBotError {
  readonly code = 'SSH_KRL_INPUT_INVALID';
  override readonly status = 500;
}
