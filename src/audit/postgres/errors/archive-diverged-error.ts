import { AccessBotError } from '../../../errors/access-bot-error';

/** The archive holds a different event at a sequence number than Redis: one of them was rewritten. */
export class ArchiveDivergedError extends AccessBotError {
  readonly code = 'AUDIT_ARCHIVE_DIVERGED';
  override readonly status = 500;
}
