import { AccessBotError } from '../../../errors/access-bot-error';

/** A certificate subject value (common name or organization) is empty, too long or holds characters a certificate must not carry. */
export class X509SubjectInvalidError extends AccessBotError {
  readonly code = 'X509_SUBJECT_INVALID';
  override readonly status = 400;
}
