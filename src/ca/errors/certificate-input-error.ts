import { AccessBotError } from '../../errors/access-bot-error';

/** The request cannot become a certificate (wrong key kind, no window, no principals): retrying will not help. */
export class CertificateInputError extends AccessBotError {
  readonly code = 'CERT_INPUT_INVALID';
  override readonly status = 422;
}
