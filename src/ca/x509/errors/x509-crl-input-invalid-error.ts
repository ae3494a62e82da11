import { AccessBotError } from '../../../errors/access-bot-error';

/** The data given to build a CRL (update times, CRL number) is out of range. */
export class X509CrlInputInvalidError extends AccessBotError {
  readonly code = 'X509_CRL_INPUT_INVALID';
  override readonly status = 400;
}
