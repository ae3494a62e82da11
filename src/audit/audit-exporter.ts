import type { AuditEvent } from './audit-event';
import { exportMetaLine, scopeOf, type ChainPoint, type ExportFilter } from './audit-export-format';
import { auditFilter } from './audit-filter';
import type { RedisAuditLog } from './redis-audit-log';

/**
 * How far past `--until` a range export keeps reading for an event stamped inside the range.
 * Events carry the appending process's clock, so across replicas their times can be a little out of
 * order; a range export is the run of the chain from the first event at or after `since` to the
 * last at or before `until`, whatever lies between, so it stays contiguous and verifiable.
 */
const RANGE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Writes the log as `audit export` prints it: a header line, the events (JSON lines), and a trailer
 * with the count, the last event and the log's head (see audit-export-format.ts). Reads up to the
 * head as it was when the export began, so a full export ends exactly at the head it names.
 */
export async function exportAuditLog(
  log: RedisAuditLog,
  filter: ExportFilter,
  write: (line: string) => void,
  now: () => number = Date.now,
): Promise<{ count: number; head: ChainPoint }> {
  const scope = scopeOf(filter);
  const head = await log.head();
  write(`${exportMetaLine({ version: 1, part: 'header', scope, filter, at: new Date(now()).toISOString() })}\n`);

  let count = 0;
  let last: ChainPoint | null = null;
  const emit = (event: AuditEvent) => {
    write(`${JSON.stringify(event)}\n`);
    count++;
    last = { seq: event.seq, hash: event.hash };
  };
  const since = filter.since !== undefined ? Date.parse(filter.since) : undefined;
  const until = filter.until !== undefined ? Date.parse(filter.until) : undefined;
  const events = log.read({ toSeq: head.seq });

  if (scope === 'selection') {
    const keep = auditFilter(filter);
    // The whole log is read: the user filter needs each request's creation event, which may be
    // older than --since. Times filter on the event's own time.
    for await (const event of events) {
      if (!keep(event)) continue;
      const at = Date.parse(event.at);
      if ((since !== undefined && at < since) || (until !== undefined && at > until)) continue;
      emit(event);
    }
  } else {
    let started = since === undefined;
    let pending: AuditEvent[] = [];
    for await (const event of events) {
      const at = Date.parse(event.at);
      if (!started) {
        if (at < since!) continue;
        started = true;
      }
      if (until !== undefined && at > until) {
        if (at > until + RANGE_CLOCK_SKEW_MS) break;
        pending.push(event);
        continue;
      }
      for (const p of pending) emit(p);
      pending = [];
      emit(event);
    }
  }

  write(`${exportMetaLine({ version: 1, part: 'trailer', scope, filter, count, last, head })}\n`);
  return { count, head };
}
