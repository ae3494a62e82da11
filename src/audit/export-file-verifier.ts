import { GENESIS_HASH, linkFormat } from './audit-chain';
import type { AuditEvent } from './audit-event';
import {
  describeFilter,
  sameFilter,
  type ChainPoint,
  type ExportFilter,
  type ExportHeader,
  type ExportScope,
  type ExportTrailer,
} from './audit-export-format';
import type { ExportFileLine } from './jsonl-file-reader';

export interface ExportFileReport {
  ok: boolean;
  /** Events verified (before the first bad one when not ok). */
  count: number;
  /** The file's last event (genesis when it holds none). Set when ok. */
  head?: ChainPoint;
  firstBad?: { seq: number; id?: string; problem: string };
  scope: ExportScope;
  filter?: ExportFilter;
  /** The first event in the file, and the link it claims to what came before. */
  first?: { seq: number; prev: string };
  /** The trailer's count and head, when the file has one. */
  trailer?: { count: number; last: ChainPoint | null; head: ChainPoint };
  /** The file provably holds everything its export wrote (a trailer was found and matches). */
  truncationRuledOut: boolean;
  /** What this verification does not prove, in plain sentences. */
  notProven: string[];
}

/**
 * Verifies an exported file, as far as its scope allows:
 * - full (or a file without a header, as exports before trailers were): the chain from the first
 *   event (prev = genesis) with no gaps, exactly like the log itself;
 * - range: a contiguous run whose first link to earlier events is taken as given;
 * - selection: each event matches its hash, events are in log order, and neighbours in the log
 *   that are both in the file link to each other. Nothing proves the selection complete.
 * Then the end: a header promises a trailer, and the trailer's count and last event must match.
 * `anchor`, if given, must be an event of the file with that hash.
 */
export async function verifyExportFile(lines: AsyncIterable<ExportFileLine>, anchor?: ChainPoint): Promise<ExportFileReport> {
  let header: ExportHeader | undefined;
  let trailer: ExportTrailer | undefined;
  let scope: ExportScope = 'full';
  let count = 0;
  let last: AuditEvent | undefined;
  let first: { seq: number; prev: string } | undefined;
  let anchorFound = anchor === undefined;
  let sawLine = false;

  const report = (extra: Partial<ExportFileReport> & { ok: boolean }): ExportFileReport => ({
    count,
    scope,
    ...(header || trailer ? { filter: (header ?? trailer)!.filter } : {}),
    ...(first ? { first } : {}),
    ...(trailer ? { trailer: { count: trailer.count, last: trailer.last, head: trailer.head } } : {}),
    truncationRuledOut: false,
    notProven: [],
    ...extra,
  });
  const broken = (seq: number, problem: string, id?: string) => report({ ok: false, firstBad: { seq, ...(id !== undefined ? { id } : {}), problem } });
  const nextSeq = () => (last?.seq ?? 0) + 1;

  for await (const item of lines) {
    const isFirstLine = !sawLine;
    sawLine = true;
    if (item.kind === 'malformed-meta') return broken(nextSeq(), `line ${item.line} looks like an export header or trailer but cannot be read: the file was edited`);
    if (item.kind === 'meta') {
      if (trailer) return broken(nextSeq(), `line ${item.line} comes after the export trailer: lines were added after the end of the export`);
      if (item.meta.part === 'header') {
        if (!isFirstLine) return broken(nextSeq(), `line ${item.line} is an export header in the middle of the file: exports were joined or lines moved`);
        header = item.meta;
        scope = header.scope;
      } else {
        trailer = item.meta;
      }
      continue;
    }

    const event = item.event;
    const id = event.id;
    if (trailer) return broken(event.seq, `line ${item.line} is an event after the export trailer: lines were added after the end of the export`, id);
    if (last === undefined) {
      const mustStartAtOne = scope === 'full';
      if (mustStartAtOne && event.seq !== 1)
        return broken(event.seq, `expected event 1 but found event ${event.seq}: events missing or out of order`, id);
      if (event.seq === 1 && event.prev !== GENESIS_HASH)
        return broken(event.seq, 'the first event of the log does not link to the genesis hash: replaced', id);
      first = { seq: event.seq, prev: event.prev };
    } else {
      const expected = last.seq + 1;
      if (scope === 'selection') {
        if (!(event.seq > last.seq))
          return broken(event.seq, `found event ${event.seq} after event ${last.seq}: events out of order or duplicated`, id);
      } else if (event.seq !== expected) {
        const problem =
          event.seq > expected
            ? `expected event ${expected} but found event ${event.seq}: events missing or out of order`
            : `expected event ${expected} but found event ${event.seq} again: events out of order or duplicated`;
        return broken(event.seq, problem, id);
      }
      if (event.seq === expected && event.prev !== last.hash)
        return broken(event.seq, 'previous-hash link does not match the event before it: reordered or replaced', id);
    }
    if (linkFormat(event) === 0)
      return broken(event.seq, 'hash does not match the content: the event was altered', id);
    if (anchor && event.seq === anchor.seq) anchorFound = event.hash === anchor.hash;
    last = event;
    count++;
  }

  const lastPoint: ChainPoint = last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  if (header && !trailer)
    return broken(
      nextSeq(),
      `the export trailer is missing: the file ends after ${last ? `event ${last.seq}` : 'its header'} although its header says a trailer follows; the file was cut`,
    );
  if (trailer) {
    const problem = trailerProblem(trailer, header, scope, count, last);
    if (problem) return broken(nextSeq(), problem);
  }
  if (!anchorFound)
    return broken(
      anchor!.seq,
      `the file does not contain the anchor ${anchor!.seq}:${anchor!.hash}: ${scope === 'selection' ? 'the selection does not hold that event, or ' : ''}history was rewritten or cut`,
    );

  const notProven: string[] = [];
  if (first && first.seq > 1)
    notProven.push(
      `what came before event ${first.seq}: events before ${first.seq} are not in the file; the first event's link to them (prev ${first.prev.slice(0, 12)}…) is taken as given`,
    );
  if (scope === 'selection')
    notProven.push(
      'that the selection is complete or in the log: a selection is not a contiguous chain, so it cannot prove that no matching event was left out, ' +
        'nor that these events are in the log (prove one is with `audit verify --anchor SEQ:HASH` against the log)',
    );
  if (!trailer) {
    notProven.push(
      anchor
        ? `that nothing after event ${anchor.seq} (the anchor) was cut: the file has no export trailer`
        : 'that no events were cut from the end: the file has no export trailer and no --anchor was given, so this cannot rule out truncation',
    );
  } else if (!anchor || anchor.seq < lastPoint.seq) {
    notProven.push(
      `that the trailer is genuine${anchor ? ` for events after the anchor (${anchor.seq})` : ''}: the trailer is not signed, so whoever can edit the file can rewrite it; ` +
        'verify with --anchor SEQ:HASH recorded elsewhere (a head printed by `audit verify`, or a shipped copy)',
    );
  }
  return report({ ok: true, head: lastPoint, truncationRuledOut: trailer !== undefined, notProven });
}

function trailerProblem(
  trailer: ExportTrailer,
  header: ExportHeader | undefined,
  scope: ExportScope,
  count: number,
  last: AuditEvent | undefined,
): string | undefined {
  if (header ? trailer.scope !== header.scope || !sameFilter(trailer.filter, header.filter) : trailer.scope !== 'full')
    return header
      ? 'the export trailer does not match the header (scope or filter differ): lines of different exports were joined, or one was edited'
      : `the export header is missing although the trailer says the export is a ${trailer.scope}: the file was edited`;
  const lastSeq = last?.seq ?? 0;
  const tLastSeq = trailer.last?.seq ?? 0;
  if (scope !== 'selection' && lastSeq < tLastSeq)
    return `the file ends at event ${lastSeq} but its trailer says the export ends at event ${tLastSeq}: ${trailer.count - count} events missing at the end`;
  if (count !== trailer.count)
    return `the file holds ${count} events but its trailer lists ${trailer.count}, ending at event ${tLastSeq}: ${count < trailer.count ? 'events missing' : 'events added'}`;
  if (lastSeq !== tLastSeq || (last && trailer.last && last.hash !== trailer.last.hash))
    return `the file's last event (${lastSeq}) is not the one its trailer names (${tLastSeq}:${trailer.last?.hash.slice(0, 12) ?? ''}…)`;
  if (scope === 'full' && (trailer.head.seq !== lastSeq || (trailer.last && trailer.head.hash !== trailer.last.hash)))
    return `the trailer's head (${trailer.head.seq}) is not the file's last event (${lastSeq}): a full export ends at the head`;
  if (trailer.head.seq < lastSeq) return `the trailer's head (${trailer.head.seq}) is before the file's last event (${lastSeq})`;
  return undefined;
}

/** What `audit verify --file` prints: the verdict on the first line, then what the end and the limits are. */
export function describeExportFile(r: ExportFileReport): string {
  if (!r.ok) {
    const bad = r.firstBad!;
    return `BROKEN at event ${bad.seq}${bad.id ? ` (stream id ${bad.id})` : ''}: ${bad.problem}\n${r.count} events before it verified.\n`;
  }
  const head = r.head!;
  const filter = r.filter ? describeFilter(r.filter) : '';
  let out: string;
  if (r.scope === 'full') out = `ok: ${r.count} events, chain unbroken; head ${head.seq}:${head.hash}\n`;
  else if (r.scope === 'range')
    out =
      `ok: ${r.count} events, a contiguous part of the chain` +
      `${r.first ? ` (events ${r.first.seq} to ${head.seq})` : ''}${filter ? `, exported with ${filter}` : ''}; last ${head.seq}:${head.hash}\n`;
  else out = `ok: ${r.count} events of a selection (${filter}), each matching its hash, in log order; last ${head.seq}:${head.hash}\n`;
  if (r.trailer) {
    out +=
      r.scope === 'full'
        ? `complete as exported: the file holds all ${r.count} events up to the export's head ${r.trailer.head.seq}:${r.trailer.head.hash}\n`
        : `complete as exported: the file holds the ${r.count} events its trailer lists, ending at event ${head.seq} ` +
          `(the log's head was ${r.trailer.head.seq}:${r.trailer.head.hash} when exported)\n`;
  }
  for (const line of r.notProven) out += `not proven: ${line}\n`;
  return out;
}
