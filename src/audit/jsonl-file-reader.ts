import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditEvent } from './audit-event';
import { parseExportMeta, type ExportMeta } from './audit-export-format';

/** A non-empty line of an exported file: an event, or the export's header or trailer. */
export type ExportFileLine =
  | { kind: 'event'; line: number; event: AuditEvent }
  | { kind: 'meta'; line: number; meta: ExportMeta }
  | { kind: 'malformed-meta'; line: number };

/**
 * Reads an exported JSON-lines audit file (from `audit export` or a sink) for offline verification,
 * line by line, so a file of any size verifies in constant memory.
 */
export async function* readAuditExport(path: string): AsyncGenerator<ExportFileLine> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  let lastSeq = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Keep its place in the sequence so verification reports it as an altered event.
      lastSeq++;
      yield { kind: 'event', line: n, event: { seq: lastSeq, prev: '', hash: '', type: '(unreadable)', at: '', actor: { id: '' }, data: { line: n } } };
      continue;
    }
    const meta = parseExportMeta(parsed);
    if (meta === 'malformed') yield { kind: 'malformed-meta', line: n };
    else if (meta) yield { kind: 'meta', line: n, meta };
    else {
      const event = parsed as AuditEvent;
      lastSeq = typeof event.seq === 'number' ? event.seq : lastSeq + 1;
      yield { kind: 'event', line: n, event };
    }
  }
}

/** The events of an exported file, without its header and trailer. */
export async function* readAuditJsonl(path: string): AsyncGenerator<AuditEvent> {
  for await (const item of readAuditExport(path)) if (item.kind === 'event') yield item.event;
}
