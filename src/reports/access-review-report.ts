import type { AuditAnalysis, RefusalEvent, RequestFacts } from './audit-analysis';
import { inPeriod, type ReportPeriod } from './report-period';
import type { ChainCheck } from './report-source';

/** A grant ending this long after its window counts as outliving it (timers and clocks are not exact). */
export const OUTLIVED_TOLERANCE_MS = 5 * 60_000;

export interface GrantRow {
  requestId: string;
  requester: string;
  requesterEmail?: string;
  resource: string;
  principals: string[];
  certificate?: { kind?: string; serial?: string };
  approvedAt: number;
  grantedMs?: number;
  expiresAt?: number;
  route: string;
  approvals: { by: string; via: string; stage: number; at: number }[];
  /** How decisions reached access-bot: slack, jira, cli, system (auto and break-glass). */
  channels: string[];
  reason?: string;
  ticket?: string;
  breakGlass?: { incident?: string; reviewRequired: boolean; reviewedBy?: string; reviewedAt?: number };
  revokedEarly?: { by: string; at: number; via: string };
  endedAt?: number;
  ended?: 'expired' | 'revoked' | 'open';
}

export interface RefusalGroup {
  type: string;
  code: string;
  count: number;
  people: string[];
  requestIds: string[];
  example?: string;
}

export interface AccessTotal {
  person: string;
  resource: string;
  grants: number;
  hours: number;
  lastGrantAt: number;
}

export type AnomalyKind =
  | 'chain_broken'
  | 'self_approval_attempt'
  | 'decision_by_non_approver'
  | 'break_glass_unreviewed'
  | 'grant_outlived_window'
  | 'certificate_without_approval'
  | 'signing_refused';

export interface Anomaly {
  kind: AnomalyKind;
  at?: number;
  seq?: number;
  requestId?: string;
  actor?: string;
  detail: string;
}

export interface OtherEvents {
  type: string;
  count: number;
  seqs: number[];
}

export interface AccessReviewReport {
  kind: 'access-review';
  period: ReportPeriod;
  generatedAt: number;
  chain: ChainCheck;
  summary: { grants: number; people: number; resources: number; breakGlass: number; refusals: number; anomalies: number; events: number };
  grants: GrantRow[];
  refusals: RefusalGroup[];
  totals: AccessTotal[];
  anomalies: Anomaly[];
  other: OtherEvents[];
}

export const ANOMALY_LABELS: Record<AnomalyKind, string> = {
  chain_broken: 'Gap or break in the audit chain',
  self_approval_attempt: 'Self-approval attempt',
  decision_by_non_approver: 'Decision attempted by a non-approver',
  break_glass_unreviewed: 'Break-glass without a closed review',
  grant_outlived_window: 'Grant outlived its window',
  certificate_without_approval: 'Certificate issued without a matching approval',
  signing_refused: 'The worker refused to sign a grant',
};

function grantRow(r: RequestFacts): GrantRow {
  const approved = r.approved!;
  const channels = new Set<string>(r.approvals.map((a) => a.via));
  if (approved.route !== 'workflow' || channels.size === 0) channels.add(approved.via);
  const end = r.revoked?.at ?? r.expired?.at;
  const row: GrantRow = {
    requestId: r.id,
    requester: r.requester?.id ?? '(unknown: created before this log)',
    ...(r.requester?.email ? { requesterEmail: r.requester.email } : {}),
    resource: r.resource ?? '(unknown)',
    principals: r.cert?.principals ?? [],
    ...(r.cert ? { certificate: { ...(r.cert.kind ? { kind: r.cert.kind } : {}), ...(r.cert.serial ? { serial: r.cert.serial } : {}) } } : {}),
    approvedAt: approved.at,
    ...(approved.grantedMs !== undefined ? { grantedMs: approved.grantedMs } : {}),
    ...(approved.expiresAt !== undefined ? { expiresAt: approved.expiresAt } : {}),
    route: approved.route,
    approvals: r.approvals.map((a) => ({ by: a.by, via: a.via, stage: a.stage, at: a.at })),
    channels: [...channels].sort(),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.ticket !== undefined ? { ticket: r.ticket } : {}),
    ...(end !== undefined ? { endedAt: end } : {}),
    ended: r.revoked ? 'revoked' : r.expired ? 'expired' : 'open',
  };
  if (r.breakGlassUsed || approved.route === 'break_glass') {
    row.breakGlass = {
      reviewRequired: r.breakGlassUsed?.reviewRequired ?? true,
      ...(r.breakGlassUsed?.incident ? { incident: r.breakGlassUsed.incident } : {}),
      ...(r.breakGlassReview ? { reviewedBy: r.breakGlassReview.by, reviewedAt: r.breakGlassReview.at } : {}),
    };
  }
  if (r.revoked && (approved.expiresAt === undefined || r.revoked.at < approved.expiresAt))
    row.revokedEarly = { by: r.revoked.by, at: r.revoked.at, via: r.revoked.via };
  return row;
}

function groupRefusals(refusals: RefusalEvent[]): RefusalGroup[] {
  const groups = new Map<string, RefusalGroup & { peopleSet: Set<string>; ids: Set<string> }>();
  for (const f of refusals) {
    const key = `${f.type}\0${f.code}`;
    let g = groups.get(key);
    if (!g) {
      g = { type: f.type, code: f.code, count: 0, people: [], requestIds: [], peopleSet: new Set(), ids: new Set(), ...(f.message ? { example: f.message } : {}) };
      groups.set(key, g);
    }
    g.count += typeof f.data.suppressed === 'number' ? 1 + f.data.suppressed : 1;
    g.peopleSet.add(f.actor);
    if (f.requestId) g.ids.add(f.requestId);
  }
  return [...groups.values()]
    .map(({ peopleSet, ids, ...g }) => ({ ...g, people: [...peopleSet].sort(), requestIds: [...ids].slice(0, 10) }))
    .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type) || a.code.localeCompare(b.code));
}

/** Anomalies of the period (chain problems of the whole source included). */
export function findAnomalies(analysis: AuditAnalysis, period: ReportPeriod, chain: ChainCheck): Anomaly[] {
  const out: Anomaly[] = [];
  if (!chain.ok && chain.firstBad) out.push({ kind: 'chain_broken', seq: chain.firstBad.seq, detail: chain.firstBad.problem });
  for (const f of analysis.refusals) {
    if (!inPeriod(period, f.at)) continue;
    if (f.code === 'SELF_APPROVAL')
      out.push({ kind: 'self_approval_attempt', at: f.at, seq: f.seq, actor: f.actor, ...(f.requestId ? { requestId: f.requestId } : {}), detail: `${f.actor} tried to decide their own request (${f.type})` });
    if (f.type === 'cert.refused')
      out.push({ kind: 'signing_refused', at: f.at, seq: f.seq, ...(f.requestId ? { requestId: f.requestId } : {}), detail: `the record did not satisfy the policy the worker loaded: ${f.code}` });
    if (f.code === 'NOT_APPROVER' || f.code === 'NOT_REVIEWER')
      out.push({ kind: 'decision_by_non_approver', at: f.at, seq: f.seq, actor: f.actor, ...(f.requestId ? { requestId: f.requestId } : {}), detail: `${f.actor} is not an approver (${f.type})` });
  }
  const reportEnd = Math.min(period.until, analysis.lastEvent ? Date.parse(analysis.lastEvent.at) : period.until);
  for (const r of analysis.requests.values()) {
    if (r.breakGlassUsed && inPeriod(period, r.breakGlassUsed.at) && r.breakGlassUsed.reviewRequired && !r.breakGlassReview)
      out.push({ kind: 'break_glass_unreviewed', at: r.breakGlassUsed.at, requestId: r.id, ...(r.requester ? { actor: r.requester.id } : {}), detail: `break-glass on ${r.resource ?? '?'}${r.breakGlassUsed.incident ? ` (incident ${r.breakGlassUsed.incident})` : ''} has no closed post-incident review` });
    if (r.cert && inPeriod(period, r.cert.at)) {
      if (!r.approved || r.approved.seq > r.cert.seq)
        out.push({ kind: 'certificate_without_approval', at: r.cert.at, seq: r.cert.seq, requestId: r.id, detail: r.createdAt === undefined ? `certificate ${r.cert.serial ?? ''} for a request whose approval is not in this log` : `certificate ${r.cert.serial ?? ''} issued with no request.approved before it` });
    }
    const a = r.approved;
    if (!a || a.expiresAt === undefined) continue;
    if (!inPeriod(period, a.at) && !(a.at < period.since && a.expiresAt >= period.since)) continue;
    // The window as last recorded: the approval's, or a shorter one the expiry reports (an extension of a parent, a shortened grant).
    const windowEnd = Math.min(a.expiresAt, r.expired?.expiresAt ?? Infinity);
    const endedAt = r.revoked?.at ?? r.expired?.at;
    const late = (endedAt ?? reportEnd) - windowEnd;
    if (late > OUTLIVED_TOLERANCE_MS && (endedAt !== undefined || windowEnd < reportEnd))
      out.push({ kind: 'grant_outlived_window', at: windowEnd, requestId: r.id, ...(r.requester ? { actor: r.requester.id } : {}), detail: endedAt !== undefined ? `ended ${Math.round(late / 60_000)} min after its window` : `window ended ${Math.round(late / 60_000)} min before the end of the report and the log records no end` });
    else if (r.cert?.validBefore !== undefined && r.cert.validBefore > a.expiresAt + 60_000)
      out.push({ kind: 'grant_outlived_window', at: a.expiresAt, requestId: r.id, detail: `certificate valid until ${new Date(r.cert.validBefore).toISOString()}, after the approved window` });
  }
  return out.sort((x, y) => (x.at ?? 0) - (y.at ?? 0) || x.kind.localeCompare(y.kind));
}

/** Grants approved in the period, oldest first. */
export function grantsIn(analysis: AuditAnalysis, period: ReportPeriod): GrantRow[] {
  return [...analysis.requests.values()]
    .filter((r) => r.approved && inPeriod(period, r.approved.at))
    .map(grantRow)
    .sort((a, b) => a.approvedAt - b.approvedAt);
}

/** Per person and resource: grants, hours held within the period, last grant. */
export function accessTotals(grants: GrantRow[], period: ReportPeriod): AccessTotal[] {
  const totals = new Map<string, AccessTotal>();
  for (const g of grants) {
    const key = `${g.requester}\0${g.resource}`;
    const t = totals.get(key) ?? { person: g.requester, resource: g.resource, grants: 0, hours: 0, lastGrantAt: 0 };
    t.grants++;
    const end = Math.min(g.endedAt ?? g.expiresAt ?? g.approvedAt, g.expiresAt ?? Infinity, period.until);
    t.hours += Math.max(0, end - Math.max(g.approvedAt, period.since)) / 3_600_000;
    t.lastGrantAt = Math.max(t.lastGrantAt, g.approvedAt);
    totals.set(key, t);
  }
  return [...totals.values()].map((t) => ({ ...t, hours: Math.round(t.hours * 100) / 100 })).sort((a, b) => a.person.localeCompare(b.person) || a.resource.localeCompare(b.resource));
}

export function accessReviewReport(analysis: AuditAnalysis, period: ReportPeriod, chain: ChainCheck, now: number): AccessReviewReport {
  const grants = grantsIn(analysis, period);
  const refusals = groupRefusals(analysis.refusals.filter((f) => inPeriod(period, f.at)));
  const totals = accessTotals(grants, period);
  const anomalies = findAnomalies(analysis, period, chain);
  const other = [...analysis.other.entries()].map(([type, o]) => ({ type, count: o.count, seqs: o.seqs })).sort((a, b) => a.type.localeCompare(b.type));
  return {
    kind: 'access-review',
    period,
    generatedAt: now,
    chain,
    summary: {
      grants: grants.length,
      people: new Set(grants.map((g) => g.requester)).size,
      resources: new Set(grants.map((g) => g.resource)).size,
      breakGlass: grants.filter((g) => g.breakGlass).length,
      refusals: refusals.reduce((n, g) => n + g.count, 0),
      anomalies: anomalies.length,
      events: analysis.periodCount,
    },
    grants,
    refusals,
    totals,
    anomalies,
    other,
  };
}
