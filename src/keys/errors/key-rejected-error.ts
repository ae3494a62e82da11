import { AccessBotError } from '../../errors/access-bot-error';

/** A public key a person submitted was refused; `reasonCode` is the parser's code. */
export class KeyRejectedError extends AccessBotError {
  readonly code = 'KEY_REJECTED';
  override readonly status = 422;

  constructor(
    message: string,
    readonly reasonCode: string,
  ) {
    super(message);
  }
}
