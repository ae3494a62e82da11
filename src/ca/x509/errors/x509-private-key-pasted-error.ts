import { AccessBotError } from '../../../errors/access-bot-error';

/** A private key was pasted where a public key or CSR belongs. The message never repeats the pasted text. */
export class X509PrivateKeyPastedError extends AccessBotError {
  readonly code = 'X509_PRIVATE_KEY_PASTED';
  override readonly status = 400;
}
