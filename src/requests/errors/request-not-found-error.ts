import { AccessBotError } from '../../errors/access-bot-error';

export class RequestNotFoundError extends AccessBotError {
  readonly code = 'REQUEST_NOT_FOUND';
  override readonly status = 404;

  constructor(readonly requestId: string) {
    super(`There is no request with id ${requestId}.`);
  }
}
