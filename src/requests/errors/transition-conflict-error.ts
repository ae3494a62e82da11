import { AccessBotError } from '../../errors/access-bot-error';

/** The request kept changing under us; the caller may try again. */
export class TransitionConflictError extends AccessBotError {
  readonly code = 'TRANSITION_CONFLICT';
  override readonly status = 409;

  constructor(readonly requestId: string) {
    super(`Request ${requestId} is being changed by someone else right now; try again.`);
  }
}
