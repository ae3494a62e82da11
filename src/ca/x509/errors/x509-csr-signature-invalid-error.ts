import { AccessBotError } from '../../../errors/access-bot-error';

/** A certificate request's own signature does not verify with the key it carries, so it proves no possession of that key. */
export class X509CsrSignatureInvalidError extends AccessBotError {
  readonly code = 'X509_CSR_SIGNATURE_INVALID';
  override readonly status = 400;
}
