import { ANOMALY_LABELS } from './access-review-report';
import { cards, chainBanner, esc, isoTime, page, table } from './html-layout';
import type { ControlRow, Soc2Report } from './soc2-report';

const STATUS_TEXT = { answered: 'answered', partial: 'partly answered', no_activity: 'no activity in the period', not_answered: 'not answered by access-bot' };

export const controlAnchor = (id: string): string => id.toLowerCase().replace('.', '-');

function control(c: ControlRow): string {
  return [
    `<section class="control" id="${controlAnchor(c.id)}" data-control="${esc(c.id)}" data-status="${c.status}">`,
    `<h2>${esc(c.id)} ${esc(c.title)} <span class="status ${c.status}">${esc(STATUS_TEXT[c.status])}</span></h2>`,
    `<p>${esc(c.what)}</p>`,
    c.evidence.length ? table(`${controlAnchor(c.id)}-evidence`, ['evidence', 'count'], c.evidence.map((e) => [e.label, typeof e.value === 'number' ? e.value : e.value])) : '',
    c.samples.length
      ? `<p>Sampled requests: ${c.samples.map((id) => `<code data-sample>${esc(id)}</code>`).join(', ')} <span class="muted">(look up with <code>access-bot cert show --request ID</code> and <code>access-bot audit export --request ID</code>)</span></p>`
      : '',
    c.details ? `<h3>${esc(c.details.title)}</h3>${table(`${controlAnchor(c.id)}-details`, c.details.columns, c.details.rows)}` : '',
    ...c.notes.map((n) => `<p class="muted">${esc(n)}</p>`),
    c.needs ? `<p class="needs"><b>What would answer ${c.status === 'not_answered' ? 'it' : 'the rest'}:</b> ${esc(c.needs)}.</p>` : '',
    `</section>`,
  ].join('\n');
}

export function soc2Html(r: Soc2Report): string {
  const s = r.summary;
  const body = [
    chainBanner(r.chain),
    `<section id="summary-section"><h2>Summary</h2>`,
    cards([
      { id: 'answered', label: 'controls answered', value: s.answered },
      { id: 'partial', label: 'partly answered', value: s.partial },
      { id: 'noActivity', label: 'no activity', value: s.noActivity },
      { id: 'notAnswered', label: 'not answered', value: s.notAnswered },
      { id: 'events', label: 'events in the period', value: s.events },
    ]),
    table(
      'controls',
      ['control', 'title', 'status', 'key figure'],
      r.controls.map((c) => [{ text: c.id, html: `<a href="#${controlAnchor(c.id)}">${esc(c.id)}</a>` }, c.title, STATUS_TEXT[c.status], c.evidence[0] ? `${c.evidence[0].label}: ${c.evidence[0].value}` : '']),
    ),
    `</section>`,
    ...r.controls.map(control),
    `<section id="anomalies-section"><h2>Anomalies</h2>`,
    table('anomalies', ['kind', 'time', 'request', 'detail'], r.anomalies.map((a) => [ANOMALY_LABELS[a.kind], { text: isoTime(a.at), sort: a.at ?? 0 }, a.requestId ?? '', a.detail]), 'No anomalies found.'),
    `</section>`,
    `<section id="other-section"><h2>Other events</h2>`,
    table('other', ['event', 'count'], r.other.map((o) => [o.type, o.count]), 'None.'),
    `</section>`,
  ].join('\n');
  return page(`SOC 2 evidence ${r.period.label}`, `Generated ${isoTime(r.generatedAt)} by access-bot from ${r.chain.source}. Period: ${isoTime(r.period.since)} to ${isoTime(r.period.until)} (end excluded).`, body);
}
