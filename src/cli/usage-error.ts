import { AccessBotError } from '../errors/access-bot-error';

/** The command line was wrong: unknown command, missing or malformed option. */
export class UsageError extends AccessBotError {
  readonly code = 'CLI_USAGE';
}
