import { AccessBotError } from '../../../errors/access-bot-error';

/** The archive's tables are missing or older than this version needs, and this process may not migrate them. */
export class ArchiveSchemaError extends AccessBotError {
  readonly code = 'AUDIT_ARCHIVE_SCHEMA';
  override readonly status = 503;
}
