import { AccessBotError } from '../../../errors/access-bot-error';

/** The pasted public key or CSR is larger than the parser accepts. */
export class X509PublicKeyTooLargeError extends AccessBotError {
  readonly code = 'X509_PUBLIC_KEY_TOO_LARGE';
  override readonly status = 413;
}
