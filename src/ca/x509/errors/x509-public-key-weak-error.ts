import { AccessBotError } from '../../../errors/access-bot-error';

/** The key is of a supported type but too weak (short RSA modulus, small or even exponent, SHA-1 signed CSR). */
export class X509PublicKeyWeakError extends AccessBotError {
  readonly code = 'X509_PUBLIC_KEY_WEAK';
  override readonly status = 400;
}
