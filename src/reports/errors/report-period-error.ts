import { AccessBotError } from '../../errors/access-bot-error';

/** A report period that is not a quarter like 2026-Q3 or a since/until pair in order. */
export class ReportPeriodError extends AccessBotError {
  readonly code = 'REPORT_PERIOD';
}
