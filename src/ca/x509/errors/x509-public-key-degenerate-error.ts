import { AccessBotError } from '../../../errors/access-bot-error';

/**
 * An Ed25519 key no key generator makes: a small-order point (signatures for it can be forged
 * without a private key, and OpenSSL accepts them) or a non-canonical encoding of a point.
 */
export class X509PublicKeyDegenerateError extends AccessBotError {
  readonly code = 'X509_PUBLIC_KEY_DEGENERATE';
  override readonly status = 400;
}
