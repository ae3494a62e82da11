import { AccessBotError } from '../../../errors/access-bot-error';

/** The pasted text is not a readable PEM public key or certificate request; the message says what is wrong with it. */
export class X509PublicKeyMalformedError extends AccessBotError {
  readonly code = 'X509_PUBLIC_KEY_MALFORMED';
  override readonly status = 400;
}
