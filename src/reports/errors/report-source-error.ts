import { AccessBotError } from '../../errors/access-bot-error';

/** A report's source of events cannot be opened (unknown name, missing settings, unreadable file). */
export class ReportSourceError extends AccessBotError {
  readonly code = 'REPORT_SOURCE';
}
