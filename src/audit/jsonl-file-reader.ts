import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditEvent } from './audit-event';

/** Reads an exported JSON-lines audit file (from `audit export` or a sink) for offline verification. */
export async function* readAuditJsonl(path: string): AsyncGenerator<AuditEvent> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  let lastSeq = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      // Keep its place in the sequence so verification reports it as an altered event.
      event = { seq: lastSeq + 1, prev: '', hash: '', type: '(unreadable)', at: '', actor: { id: '' }, data: { line: n } };
    }
    lastSeq = event.seq;
    yield event;
  }
}
