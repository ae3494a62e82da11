import { AccessBotError } from '../../../errors/access-bot-error';

/** A certificate serial number is zero, malformed or longer than the 20 octets RFC 5280 allows. */
export class X509SerialInvalidError extends AccessBotError {
  readonly code = 'X509_SERIAL_INVALID';
  override readonly status = 400;
}
