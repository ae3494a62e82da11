/**
 * The two lines `audit export` writes around its events, so `audit verify --file` can tell a
 * complete export from one cut short.
 *
 * Both are `{"auditExport": {...}}`: an object with a single key no event has (events always carry
 * `seq`, `type` and `hash`), so no reader can take one for an event. A header on the first line
 * says what was exported and promises a trailer; the trailer on the last line gives the count, the
 * last event and the log's head when the export was taken. Cutting the file's end removes the
 * trailer, which the header makes visible; cutting events and keeping the trailer shows as a count
 * or last-event mismatch. A sidecar file would keep event-only lines but travels apart from the
 * export (and `audit export` writes to stdout); a trailer goes wherever the file goes.
 *
 * Neither line is signed: whoever can edit the file can rewrite both. Only a head recorded
 * elsewhere (`--anchor`) rules that out; verify says so.
 */

/** full: every event from the first to the head. range: a contiguous run (--since/--until only). selection: filtered events. */
export type ExportScope = 'full' | 'range' | 'selection';

/** What the export was asked for; times resolved to ISO 8601. */
export interface ExportFilter {
  since?: string;
  until?: string;
  requestId?: string;
  user?: string;
  type?: string;
}

export interface ChainPoint {
  seq: number;
  hash: string;
}

export interface ExportHeader {
  version: 1;
  part: 'header';
  scope: ExportScope;
  filter: ExportFilter;
  /** When the export was taken. */
  at: string;
}

export interface ExportTrailer {
  version: 1;
  part: 'trailer';
  scope: ExportScope;
  filter: ExportFilter;
  /** Events in the file. */
  count: number;
  /** The last event in the file; null when it holds none. */
  last: ChainPoint | null;
  /** The log's head when the export was taken: for a full export, the same as `last`. */
  head: ChainPoint;
}

export type ExportMeta = ExportHeader | ExportTrailer;

export function exportMetaLine(meta: ExportMeta): string {
  return JSON.stringify({ auditExport: meta });
}

export function scopeOf(filter: ExportFilter): ExportScope {
  if (filter.requestId !== undefined || filter.user !== undefined || filter.type !== undefined) return 'selection';
  if (filter.since !== undefined || filter.until !== undefined) return 'range';
  return 'full';
}

/** `--request ra --since 2026-11-01T00:00:00.000Z`, for messages. */
export function describeFilter(filter: ExportFilter): string {
  const parts: string[] = [];
  if (filter.requestId !== undefined) parts.push(`--request ${filter.requestId}`);
  if (filter.user !== undefined) parts.push(`--user ${filter.user}`);
  if (filter.type !== undefined) parts.push(`--type ${filter.type}`);
  if (filter.since !== undefined) parts.push(`--since ${filter.since}`);
  if (filter.until !== undefined) parts.push(`--until ${filter.until}`);
  return parts.join(' ');
}

const SCOPES: readonly string[] = ['full', 'range', 'selection'];
const FILTER_KEYS = ['since', 'until', 'requestId', 'user', 'type'] as const;

function chainPoint(value: unknown): ChainPoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, hash } = value as Record<string, unknown>;
  return typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 && typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash)
    ? { seq, hash }
    : undefined;
}

function filterOf(value: unknown): ExportFilter | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: ExportFilter = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key) || typeof v !== 'string') return undefined;
    out[key as (typeof FILTER_KEYS)[number]] = v;
  }
  return out;
}

/**
 * The header or trailer a parsed line holds; `undefined` when the line is not one (an event), and
 * `'malformed'` when it claims to be one but does not read as either.
 */
export function parseExportMeta(parsed: unknown): ExportMeta | 'malformed' | undefined {
  if (typeof parsed !== 'object' || parsed === null || !('auditExport' in parsed)) return undefined;
  const meta = (parsed as { auditExport: unknown }).auditExport;
  if (typeof meta !== 'object' || meta === null) return 'malformed';
  const m = meta as Record<string, unknown>;
  const filter = filterOf(m.filter);
  if (m.version !== 1 || typeof m.scope !== 'string' || !SCOPES.includes(m.scope) || !filter) return 'malformed';
  const scope = m.scope as ExportScope;
  if (m.part === 'header') return { version: 1, part: 'header', scope, filter, at: typeof m.at === 'string' ? m.at : '' };
  if (m.part !== 'trailer') return 'malformed';
  const head = chainPoint(m.head);
  const last = m.last === null ? null : chainPoint(m.last);
  if (typeof m.count !== 'number' || !Number.isInteger(m.count) || m.count < 0 || !head || last === undefined) return 'malformed';
  return { version: 1, part: 'trailer', scope, filter, count: m.count, last, head };
}

export function sameFilter(a: ExportFilter, b: ExportFilter): boolean {
  return FILTER_KEYS.every((k) => a[k] === b[k]);
}
