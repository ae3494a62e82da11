import { AccessBotError } from '../../../errors/access-bot-error';

/** The requested validity window is empty, reversed or outside what a certificate can encode. */
export class X509ValidityInvalidError extends AccessBotError {
  readonly code = 'X509_VALIDITY_INVALID';
  override readonly status = 400;
}
