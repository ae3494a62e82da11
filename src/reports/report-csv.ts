import { formatDuration } from '../config/duration';
import { ANOMALY_LABELS, type AccessReviewReport } from './access-review-report';
import { isoTime } from './html-layout';
import type { Soc2Report } from './soc2-report';

/** One CSV field; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: unknown): string {
  let text = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (fields: unknown[]) => fields.map(csvField).join(',');

/** Blocks of rows, each headed by its section name and column names, separated by a blank line. */
function sections(blocks: { name: string; columns: string[]; rows: unknown[][] }[]): string {
  return `${blocks.map((b) => [line([b.name]), line(b.columns), ...b.rows.map(line)].join('\r\n')).join('\r\n\r\n')}\r\n`;
}

export function accessReviewCsv(r: AccessReviewReport): string {
  return sections([
    { name: 'chain', columns: ['ok', 'source', 'events', 'head', 'problem'], rows: [[r.chain.ok, r.chain.source, r.chain.count, r.chain.head ? `${r.chain.head.seq}:${r.chain.head.hash}` : '', r.chain.firstBad?.problem ?? '']] },
    {
      name: 'grants',
      columns: ['approved', 'request', 'requester', 'email', 'resource', 'principals', 'duration', 'expires', 'route', 'approvers', 'channels', 'break-glass incident', 'break-glass review', 'revoked early by', 'ended'],
      rows: r.grants.map((g) => [
        isoTime(g.approvedAt),
        g.requestId,
        g.requester,
        g.requesterEmail ?? '',
        g.resource,
        g.principals.join(' '),
        g.grantedMs !== undefined ? formatDuration(g.grantedMs) : '',
        isoTime(g.expiresAt),
        g.route,
        g.approvals.map((a) => `${a.by}@stage${a.stage + 1}/${a.via}`).join(' '),
        g.channels.join(' '),
        g.breakGlass?.incident ?? '',
        g.breakGlass ? (g.breakGlass.reviewedBy ? `closed by ${g.breakGlass.reviewedBy}` : g.breakGlass.reviewRequired ? 'open' : 'not required') : '',
        g.revokedEarly?.by ?? '',
        g.ended === 'open' ? 'open' : `${g.ended} ${isoTime(g.endedAt)}`,
      ]),
    },
    { name: 'refusals', columns: ['event', 'code', 'count', 'people'], rows: r.refusals.map((g) => [g.type, g.code, g.count, g.people.join(' ')]) },
    { name: 'access per person and resource', columns: ['person', 'resource', 'grants', 'hours', 'last grant'], rows: r.totals.map((t) => [t.person, t.resource, t.grants, t.hours, isoTime(t.lastGrantAt)]) },
    { name: 'anomalies', columns: ['kind', 'time', 'request', 'who', 'detail'], rows: r.anomalies.map((a) => [ANOMALY_LABELS[a.kind], isoTime(a.at), a.requestId ?? '', a.actor ?? '', a.detail]) },
    { name: 'other events', columns: ['event', 'count'], rows: r.other.map((o) => [o.type, o.count]) },
  ]);
}

export function soc2Csv(r: Soc2Report): string {
  return sections([
    { name: 'chain', columns: ['ok', 'source', 'events', 'head'], rows: [[r.chain.ok, r.chain.source, r.chain.count, r.chain.head ? `${r.chain.head.seq}:${r.chain.head.hash}` : '']] },
    {
      name: 'controls',
      columns: ['control', 'title', 'status', 'evidence', 'samples', 'needs'],
      rows: r.controls.map((c) => [c.id, c.title, c.status, c.evidence.map((e) => `${e.label}: ${e.value}`).join('; '), c.samples.join(' '), c.needs ?? '']),
    },
  ]);
}
