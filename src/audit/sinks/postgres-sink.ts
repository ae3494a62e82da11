import type { Logger } from '../../log/logger';
import type { AuditEvent } from '../audit-event';
import type { PostgresAuditArchive } from '../postgres/postgres-audit-archive';
import type { AuditSink } from './audit-sink';

/**
 * Ships to the PostgreSQL archive. The shipper acknowledges a batch in Redis only after this
 * resolves, i.e. after the insert committed; a batch redelivered after a crash between the two
 * is recognised by sequence number and skipped, so each event lands in the archive once.
 */
export class PostgresSink implements AuditSink {
  readonly name = 'postgres';
  inserted = 0;
  duplicates = 0;

  constructor(
    readonly archive: PostgresAuditArchive,
    private readonly logger?: Logger,
    private readonly closeArchive = true,
  ) {}

  async write(events: AuditEvent[]): Promise<void> {
    const result = await this.archive.insert(events);
    this.inserted += result.inserted;
    this.duplicates += result.duplicates;
    if (result.duplicates) this.logger?.info({ duplicates: result.duplicates }, 'audit archive: events delivered again were already archived; skipped');
  }

  async close(): Promise<void> {
    if (this.closeArchive) await this.archive.close();
  }
}
