import type { AuditEvent } from '../audit-event';

/** Somewhere audit events are shipped: a SIEM file, stdout, an HTTP collector. */
export interface AuditSink {
  /** A stable name: the Redis consumer group that remembers what this sink has received. */
  readonly name: string;
  /** Resolves once the events are durably handed over; rejects to have them retried. */
  write(events: AuditEvent[]): Promise<void>;
  close(): Promise<void>;
}
