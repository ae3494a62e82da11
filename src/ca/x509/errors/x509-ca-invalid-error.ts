import { AccessBotError } from '../../../errors/access-bot-error';

/** The X.509 CA material cannot sign: unsupported key, unreadable certificate, not a CA, or the key does not match the certificate. */
export class X509CaInvalidError extends AccessBotError {
  readonly code = 'X509_CA_INVALID';
  override readonly status = 500;
}
