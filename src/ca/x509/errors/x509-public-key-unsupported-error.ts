import { AccessBotError } from '../../../errors/access-bot-error';

/** The key type, curve or size is not one access-bot issues certificates for; the message names it and what is accepted. */
export class X509PublicKeyUnsupportedError extends AccessBotError {
  readonly code = 'X509_PUBLIC_KEY_UNSUPPORTED';
  override readonly status = 400;
}
