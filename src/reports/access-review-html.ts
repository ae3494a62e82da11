import { formatDuration } from '../config/duration';
import { ANOMALY_LABELS, type AccessReviewReport } from './access-review-report';
import { cards, chainBanner, esc, isoTime, page, table } from './html-layout';

export function accessReviewHtml(r: AccessReviewReport): string {
  const s = r.summary;
  const body = [
    chainBanner(r.chain),
    `<section id="summary-section"><h2>Summary</h2>`,
    cards([
      { id: 'grants', label: 'grants', value: s.grants },
      { id: 'people', label: 'people', value: s.people },
      { id: 'resources', label: 'resources', value: s.resources },
      { id: 'breakGlass', label: 'break-glass grants', value: s.breakGlass },
      { id: 'refusals', label: 'refused attempts', value: s.refusals },
      { id: 'anomalies', label: 'anomalies', value: s.anomalies },
      { id: 'events', label: 'events in the period', value: s.events },
    ]),
    `</section>`,
    `<section id="anomalies-section"><h2>Anomalies</h2>`,
    table(
      'anomalies',
      ['kind', 'time', 'request', 'who', 'detail'],
      r.anomalies.map((a) => [ANOMALY_LABELS[a.kind], { text: isoTime(a.at), sort: a.at ?? 0 }, a.requestId ?? (a.seq !== undefined ? `event ${a.seq}` : ''), a.actor ?? '', a.detail]),
      'No anomalies found.',
    ),
    `</section>`,
    `<section id="grants-section"><h2>Grants</h2>`,
    table(
      'grants',
      ['approved', 'request', 'who', 'resource', 'principals', 'duration', 'route', 'approved by', 'channel', 'break-glass', 'ended'],
      r.grants.map((g) => [
        { text: isoTime(g.approvedAt), sort: g.approvedAt },
        g.requestId,
        g.requesterEmail ? `${g.requester} (${g.requesterEmail})` : g.requester,
        g.resource,
        g.principals.join(', '),
        { text: g.grantedMs !== undefined ? formatDuration(g.grantedMs) : '', sort: g.grantedMs ?? 0 },
        g.route,
        g.approvals.map((a) => `${a.by} (stage ${a.stage + 1}, ${a.via})`).join('; '),
        g.channels.join(', '),
        g.breakGlass ? `${g.breakGlass.incident ?? 'no incident'}; review ${g.breakGlass.reviewedBy ? `closed by ${g.breakGlass.reviewedBy}` : g.breakGlass.reviewRequired ? 'OPEN' : 'not required'}` : '',
        g.revokedEarly ? `revoked early by ${g.revokedEarly.by} at ${isoTime(g.revokedEarly.at)}` : g.ended === 'open' ? 'open' : `${g.ended} ${isoTime(g.endedAt)}`,
      ]),
    ),
    `</section>`,
    `<section id="refusals-section"><h2>Refused attempts</h2>`,
    table(
      'refusals',
      ['event', 'code', 'count', 'people', 'example'],
      r.refusals.map((g) => [g.type, g.code, g.count, g.people.join(', '), g.example ?? '']),
    ),
    `</section>`,
    `<section id="totals-section"><h2>Access per person and resource</h2>`,
    table(
      'totals',
      ['person', 'resource', 'grants', 'hours', 'last grant'],
      r.totals.map((t) => [t.person, t.resource, t.grants, t.hours, { text: isoTime(t.lastGrantAt), sort: t.lastGrantAt }]),
    ),
    `</section>`,
    `<section id="other-section"><h2>Other events</h2><p class="muted">Event kinds this version of access-bot does not read; they are verified in the chain and counted here.</p>`,
    table('other', ['event', 'count', 'first sequence numbers'], r.other.map((o) => [o.type, o.count, o.seqs.join(', ')]), 'None.'),
    `</section>`,
  ].join('\n');
  return page(`Access review ${r.period.label}`, `Generated ${isoTime(r.generatedAt)} by access-bot from ${r.chain.source}. Period: ${isoTime(r.period.since)} to ${isoTime(r.period.until)} (end excluded).`, body);
}

