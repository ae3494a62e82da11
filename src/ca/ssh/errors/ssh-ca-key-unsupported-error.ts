import { AccessBotError } from '../../../errors/access-bot-error';

/** The CA key is of a kind the SSH signer cannot use, or its private and public halves do not match. */
export class SshCaKeyUnsupportedError extends AccessBotError {
  readonly code = 'SSH_CA_KEY_UNSUPPORTED';
  override readonly status = 500;
}
