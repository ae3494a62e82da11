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
  // Stream ids are the times Redis stored the events; event times are the writers' clocks, within
  // the skew of them. A window starts reading at the stream id `since` less the skew, and stops at
  // the first event stamped past `until` plus the skew.
  const window = since !== undefined ? { since: Math.max(0, since - RANGE_CLOCK_SKEW_MS) } : {};
  const pastWindow = (event: AuditEvent) => until !== undefined && Date.parse(event.at) > until + RANGE_CLOCK_SKEW_MS;
  const inWindow = (event: AuditEvent) => {
    const at = Date.parse(event.at);
    return !((since !== undefined && at < since) || (until !== undefined && at > until));
  };

  if (scope === 'selection' && (filter.requestId !== undefined || filter.user !== undefined)) {
    for await (const event of selectByIndex(log, filter, head.seq)) if (inWindow(event)) emit(event);
  } else if (scope === 'selection') {
    const keep = auditFilter(filter);
    for await (const event of log.read({ toSeq: head.seq, ...window })) {
      if (pastWindow(event)) break;
      if (keep(event) && inWindow(event)) emit(event);
    }
  } else {
    let started = since === undefined;
    let pending: AuditEvent[] = [];
    for await (const event of log.read({ toSeq: head.seq, ...window })) {
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

/**
 * The events of `--request` or `--user`, read through the indexes the append script keeps (a
 * request's events; what a person did or is named in), not by reading the log. `--user` also takes
 * every event of the requests the person made, found from their `request.created` events. Events
 * from before the indexes existed are read from the stream, up to the first indexed one. The same
 * stateful filter as a full read then decides, in log order.
 */
async function* selectByIndex(log: RedisAuditLog, filter: ExportFilter, toSeq: number): AsyncGenerator<AuditEvent> {
  const keep = auditFilter(filter);
  const indexed = await log.indexedFrom();
  const indexedFrom = indexed?.seq ?? toSeq + 1;
  const requestsOfUser = new Set<string>();
  const noteRequest = (event: AuditEvent) => {
    if (filter.user === undefined || event.type !== 'request.created' || event.requestId === undefined) return;
    if ((event.data.requester as { id?: string } | undefined)?.id === filter.user) requestsOfUser.add(event.requestId);
  };
  if (indexedFrom > 1) {
    for await (const event of log.read({ toSeq: Math.min(toSeq, indexedFrom - 1), ...(indexed ? { beforeId: indexed.id } : {}) })) {
      noteRequest(event);
      if (keep(event)) yield event;
    }
  }
  if (indexedFrom > toSeq) return;

  const found = new Map<number, AuditEvent>();
  const take = async (indexKey: string) => {
    for await (const event of log.readIndex(indexKey)) if (event.seq >= indexedFrom && event.seq <= toSeq) found.set(event.seq, event);
  };
  if (filter.requestId !== undefined) await take(log.keys.auditRequestIndex(filter.requestId));
  else if (filter.user !== undefined) {
    await take(log.keys.auditUserIndex(filter.user));
    for (const event of found.values()) noteRequest(event);
    for (const requestId of requestsOfUser) await take(log.keys.auditRequestIndex(requestId));
  }
  for (const seq of [...found.keys()].sort((a, b) => a - b)) {
    const event = found.get(seq)!;
    if (keep(event)) yield event;
  }
}
