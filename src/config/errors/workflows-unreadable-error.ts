import { AccessBotError } from '../../errors/access-bot-error';

/** The workflows directory or one of its files could not be read at all (missing, permissions). */
export class WorkflowsUnreadableError extends AccessBotError {
  readonly code = 'WORKFLOWS_UNREADABLE';
  override readonly status = 500;
}
