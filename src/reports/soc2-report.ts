import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import { formatDuration } from '../config/duration';
import { findAnomalies, ANOMALY_LABELS, type Anomaly } from './access-review-report';
import type { AuditAnalysis, RequestFacts } from './audit-analysis';
import { sampleIds } from './evidence-sample';
import { inPeriod, type ReportPeriod } from './report-period';
import type { ChainCheck } from './report-source';

export type ControlStatus = 'answered' | 'partial' | 'no_activity' | 'not_answered';

export interface ControlRow {
  id: string;
  title: string;
  status: ControlStatus;
  /** What access-bot does for this control. */
  what: string;
  evidence: { label: string; value: number | string }[];
  /** Request ids an auditor can look up with `cert show` and `audit export --request`. */
  samples: string[];
  /** Tables for the row (config loads for CC8.1, reviews for CC7.5…). */
  details?: { title: string; columns: string[]; rows: (string | number)[][] };
  notes: string[];
  /** What would answer the row (or its missing part) when access-bot cannot. */
  needs?: string;
}

export interface Soc2Report {
  kind: 'soc2';
  period: ReportPeriod;
  generatedAt: number;
  chain: ChainCheck;
  summary: { answered: number; partial: number; noActivity: number; notAnswered: number; events: number };
  controls: ControlRow[];
  anomalies: Anomaly[];
  other: { type: string; count: number }[];
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export function soc2Report(analysis: AuditAnalysis, period: ReportPeriod, chain: ChainCheck, now: number): Soc2Report {
  const seed = chain.head?.hash ?? 'no-head';
  const all = [...analysis.requests.values()];
  const created = all.filter((r) => inPeriod(period, r.createdAt));
  const approved = all.filter((r) => r.approved && inPeriod(period, r.approved.at));
  const certs = all.filter((r) => r.cert && inPeriod(period, r.cert.at));
  const expired = all.filter((r) => r.expired && inPeriod(period, r.expired.at));
  const revoked = all.filter((r) => r.revoked && inPeriod(period, r.revoked.at));
  const closedAs = (type: string) => all.filter((r) => r.closed?.type === type && inPeriod(period, r.closed.at));
  const bg = all.filter((r) => r.breakGlassUsed && inPeriod(period, r.breakGlassUsed.at));
  const bgReviewed = all.filter((r) => r.breakGlassReview && inPeriod(period, r.breakGlassReview.at));
  const refusals = analysis.refusals.filter((f) => inPeriod(period, f.at));
  const refusedWith = (code: string, type?: string) => refusals.filter((f) => f.code === code && (type === undefined || f.type === type));
  const events = (type: string) => analysis.events(type).filter((e) => inPeriod(period, Date.parse(e.at)));
  const count = (type: string) => analysis.periodTypes.get(type) ?? 0;
  const ids = (rs: RequestFacts[]) => rs.map((r) => r.id);
  const anomalies = findAnomalies(analysis, period, chain);
  const byRoute = (route: string) => approved.filter((r) => r.approved!.route === route).length;
  const multiStage = approved.filter((r) => new Set(r.approvals.map((a) => a.stage)).size > 1);
  const distinctApprovers = new Set(approved.flatMap((r) => r.approvals.map((a) => a.by)));
  const validityHours = certs.map((r) => ((r.cert!.validBefore ?? 0) - (r.cert!.validAfter ?? 0)) / 3_600_000).filter((h) => h > 0);
  const maxValidity = validityHours.length ? Math.max(...validityHours) : 0;
  const signatureRefusals = refusals.filter((f) => f.type === A.signatureRefused).reduce((n, f) => n + 1 + (typeof f.data.suppressed === 'number' ? f.data.suppressed : 0), 0);
  const reviewsStarted = events(A.accessReviewStarted);
  const answers = events(A.accessReviewAnswered);
  const keeps = answers.filter((e) => e.data.decision === 'keep');
  const removes = answers.filter((e) => e.data.decision === 'remove');
  const changesClosed = events(A.accessReviewChangeClosed);
  const reviewItems = reviewsStarted.reduce((n, e) => n + (typeof e.data.items === 'number' ? e.data.items : 0), 0);
  const configLoads = events(A.configLoaded);
  const policyHashes = new Map<string, number>();
  for (const e of configLoads) if (typeof e.data.policy === 'string' && !policyHashes.has(e.data.policy)) policyHashes.set(e.data.policy, Date.parse(e.at));
  const status = (hasEvidence: boolean, complete = true): ControlStatus => (!hasEvidence ? 'no_activity' : complete ? 'answered' : 'partial');

  const controls: ControlRow[] = [
    {
      id: 'CC6.1',
      title: 'Logical access security: credential management',
      what: 'Access is a short-lived SSH or X.509 certificate bound to a public key the person registered (the private key never leaves their machine). Principals and groups come only from the workflow files; the CA private keys are read by the worker alone. Every certificate is logged with serial, key fingerprint, principals and validity.',
      status: status(certs.length > 0),
      evidence: [
        { label: 'certificates issued', value: certs.length },
        { label: 'SSH certificates', value: certs.filter((r) => r.cert!.kind === 'ssh').length },
        { label: 'X.509 certificates', value: certs.filter((r) => r.cert!.kind === 'x509').length },
        { label: 'longest certificate validity (hours)', value: Math.round(maxValidity * 100) / 100 },
        { label: 'public keys registered', value: count(A.keyRegistered) },
        { label: 'public keys refused (weak, malformed, private keys pasted)', value: refusals.filter((f) => f.type === A.keyRefused).length },
        { label: 'public keys removed', value: count(A.keyRemoved) },
        { label: 'CA created or rotated', value: count(A.caCreated) + count(A.caRotated) },
      ],
      samples: sampleIds(ids(certs), seed),
      notes: [],
    },
    {
      id: 'CC6.2',
      title: 'Authorised creation and removal of access; periodic access review',
      what: 'Every grant starts as a request that a workflow approves (named approvers, auto-approval rules, break-glass with a review, or an audited admin issue); access ends on its own at the end of its window or earlier by revocation. Reviewers confirm periodically who held each resource (reviews: in the workflow files), and each answer is audited.',
      status: status(created.length > 0, reviewsStarted.length > 0),
      evidence: [
        { label: 'requests made', value: created.length },
        { label: 'approved by the workflow', value: byRoute('workflow') },
        { label: 'auto-approved by a rule', value: byRoute('auto') },
        { label: 'break-glass', value: byRoute('break_glass') },
        { label: 'granted by a PagerDuty incident', value: byRoute('incident') },
        { label: 'issued by an admin', value: byRoute('admin') },
        { label: 'denied', value: closedAs(A.requestDenied).length },
        { label: 'timed out', value: closedAs(A.requestTimedOut).length },
        { label: 'cancelled', value: closedAs(A.requestCancelled).length },
        { label: 'requests refused', value: refusals.filter((f) => f.type === A.requestRefused).length },
        { label: 'access reviews started', value: reviewsStarted.length },
        { label: 'people × resources put to reviewers', value: reviewItems },
        { label: 'review answers: keep', value: keeps.length },
        { label: 'review answers: remove', value: removes.length },
        { label: 'review items unanswered', value: Math.max(0, reviewItems - keeps.length - removes.length) },
      ],
      samples: sampleIds(ids(approved), seed),
      details: answers.length
        ? { title: 'Access review answers', columns: ['time', 'review', 'person', 'resource', 'decision', 'reviewer'], rows: answers.map((e) => [iso(Date.parse(e.at)), String(e.data.review ?? ''), String(e.data.user ?? ''), String(e.data.resource ?? ''), String(e.data.decision ?? ''), e.actor.id]) }
        : undefined,
      notes: reviewsStarted.length ? [] : ['No periodic access review ran in this period.'],
      ...(reviewsStarted.length ? {} : { needs: 'a periodic access review: add reviews: to a workflow file (docs/compliance.md), or your identity provider’s access certification' }),
    },
    {
      id: 'CC6.3',
      title: 'Role-based access, least privilege and segregation of duties',
      what: 'Who may request and who may approve are separate lists in the workflow files; nobody approves their own request; with distinct_approvers one person approves one stage only; decisions by anyone else are refused and audited. Reviewers’ “remove” answers become pending changes to the requester lists that admins see.',
      status: status(approved.length > 0 || refusals.length > 0),
      evidence: [
        { label: 'distinct approvers', value: distinctApprovers.size },
        { label: 'grants approved in two or more stages', value: multiStage.length },
        { label: 'self-approval attempts refused', value: refusedWith('SELF_APPROVAL').length },
        { label: 'decisions by non-approvers refused', value: refusedWith('NOT_APPROVER').length + refusedWith('NOT_REVIEWER').length },
        { label: 'second approvals by the same person refused', value: refusedWith('ALREADY_REVIEWED').length },
        { label: 'requests by people not eligible refused', value: refusedWith('NOT_ELIGIBLE').length },
        { label: 'access review removals requested', value: removes.length },
        { label: 'requested removals closed by an admin', value: changesClosed.length },
      ],
      samples: sampleIds(ids(multiStage.length ? multiStage : approved), seed),
      details: removes.length
        ? { title: 'Removals requested by reviewers', columns: ['time', 'person', 'resource', 'reviewer', 'pending change'], rows: removes.map((e) => [iso(Date.parse(e.at)), String(e.data.user ?? ''), String(e.data.resource ?? ''), e.actor.id, String(e.data.change ?? '')]) }
        : undefined,
      notes: [],
    },
    {
      id: 'CC6.4',
      title: 'Physical access to facilities and protected information assets',
      what: 'access-bot manages logical access only.',
      status: 'not_answered',
      evidence: [],
      samples: [],
      notes: ['access-bot cannot answer this row.'],
      needs: 'your data centre or cloud provider’s SOC 2 report (carved-out physical controls) and your office badge-system logs',
    },
    {
      id: 'CC6.5',
      title: 'Access removed when no longer required',
      what: 'Every grant has an end: the certificate expires with the approved window, and revocation (requester, admin) puts its serial in the KRL/CRL at once. Keys can be removed; old closed request records leave Redis under REQUEST_RETENTION while the audit log keeps their history.',
      status: status(expired.length + revoked.length > 0),
      evidence: [
        { label: 'grants expired at the end of their window', value: expired.length },
        { label: 'grants revoked', value: revoked.length },
        { label: 'grants that outlived their window', value: anomalies.filter((a) => a.kind === 'grant_outlived_window').length },
        { label: 'public keys removed', value: count(A.keyRemoved) },
        { label: 'closed request records removed by retention', value: events(A.requestsRemoved).reduce((n, e) => n + (typeof e.data.count === 'number' ? e.data.count : 0), 0) },
      ],
      samples: sampleIds(ids([...expired, ...revoked]), seed),
      notes: [],
    },
    {
      id: 'CC6.6',
      title: 'Protection against threats from outside the system boundary; additional authentication',
      what: 'Every Slack request must carry a valid, fresh signature (forged or replayed ones are refused, answered 401 and audited); decisions come from a Slack session of the named approver, a second person, never the requester; certificates may be limited to source addresses.',
      status: status(approved.length + signatureRefusals > 0),
      evidence: [
        { label: 'requests to /slack/events refused for their signature', value: signatureRefusals },
        { label: 'grants approved by a second person', value: approved.filter((r) => r.approvals.some((a) => a.by !== r.requester?.id)).length },
        { label: 'decisions through Slack', value: all.flatMap((r) => r.approvals).filter((a) => inPeriod(period, a.at) && a.via === 'slack').length },
      ],
      samples: sampleIds(ids(approved.filter((r) => r.approvals.length > 0)), seed),
      notes: ['The person clicking is authenticated by Slack.'],
      needs: 'for the sign-in itself: your Slack workspace’s SSO and two-factor enforcement settings (Slack admin export)',
    },
    {
      id: 'CC6.7',
      title: 'Restricted transmission of information',
      what: 'Certificates go only to the requester, by Slack DM; private keys are never sent (only public keys are registered); the CA keys never leave the worker.',
      status: status(count(A.certDelivered) > 0, false),
      evidence: [
        { label: 'certificates delivered to the requester by DM', value: count(A.certDelivered) },
        { label: 'pasted private keys refused', value: refusals.filter((f) => f.type === A.keyRefused && /PRIVATE/i.test(f.code)).length },
      ],
      samples: sampleIds(ids(all.filter((r) => inPeriod(period, r.deliveredAt))), seed),
      notes: [],
      needs: 'for traffic between systems: your TLS and network configuration evidence (load balancers, SSH servers); access-bot sees only its own messages',
    },
    {
      id: 'CC7.2',
      title: 'Monitoring for anomalies (detection design)',
      what: 'The audit log is a hash chain verified at the top of this report; each report runs the detectors below over every event of the period; failed calls to outside services and refused attempts are audited.',
      status: 'answered',
      evidence: [
        { label: 'chain verification', value: chain.ok ? `ok (${chain.count} events)` : `BROKEN at ${chain.firstBad?.seq}` },
        ...(Object.keys(ANOMALY_LABELS) as (keyof typeof ANOMALY_LABELS)[]).map((k) => ({ label: `detector: ${ANOMALY_LABELS[k].toLowerCase()}`, value: anomalies.filter((a) => a.kind === k).length })),
        { label: 'refused attempts of every kind', value: refusals.length },
        { label: 'refusals beyond a person’s rate limit (counted, not written one by one)', value: refusals.filter((f) => f.type === A.refusalsSuppressed).reduce((n, f) => n + (typeof f.data.count === 'number' ? f.data.count : 0), 0) },
        { label: 'failed calls to outside services', value: count(A.externalCallFailed) },
      ],
      samples: sampleIds(anomalies.flatMap((a) => (a.requestId ? [a.requestId] : [])), seed),
      notes: [],
    },
    {
      id: 'CC7.3',
      title: 'Evaluation of security events (incident analysis)',
      what: 'Emergency access is break-glass: allowed only to the on-call of named PagerDuty services (and, when required, during an active incident); each use records the incident and service, is announced at once and awaits a post-incident review.',
      status: status(bg.length > 0 || refusedWith('BREAK_GLASS_NOT_ALLOWED').length > 0),
      evidence: [
        { label: 'break-glass uses', value: bg.length },
        { label: 'uses tied to an incident', value: bg.filter((r) => r.breakGlassUsed!.incident).length },
        { label: 'break-glass attempts refused (not on call, no incident)', value: refusedWith('BREAK_GLASS_NOT_ALLOWED').length },
      ],
      samples: sampleIds(ids(bg), seed),
      details: bg.length
        ? { title: 'Break-glass uses', columns: ['time', 'request', 'person', 'resource', 'incident', 'service', 'reviewed'], rows: bg.map((r) => [iso(r.breakGlassUsed!.at), r.id, r.requester?.id ?? '', r.resource ?? '', r.breakGlassUsed!.incident ?? '', r.breakGlassUsed!.service ?? '', r.breakGlassReview ? 'yes' : 'no']) }
        : undefined,
      notes: [],
    },
    {
      id: 'CC7.4',
      title: 'Incident response: containment strategy and response evaluation',
      what: 'Break-glass grants are short (the workflow’s max_duration) and end on their own; any grant can be revoked at once (serial in the KRL and CRL); every use stays open until a reviewer closes its post-incident review, and the time to close is measured here.',
      status: status(bg.length + revoked.length > 0),
      evidence: [
        { label: 'longest break-glass grant', value: formatDuration(Math.max(0, ...bg.map((r) => r.approved?.grantedMs ?? 0))) },
        { label: 'grants revoked early (containment)', value: revoked.filter((r) => r.approved?.expiresAt === undefined || r.revoked!.at < r.approved.expiresAt).length },
        { label: 'break-glass reviews closed', value: bgReviewed.length },
        { label: 'break-glass reviews still open', value: bg.filter((r) => r.breakGlassUsed!.reviewRequired && !r.breakGlassReview).length },
        { label: 'median time to close a review', value: median(bgReviewed.map((r) => r.breakGlassReview!.at - (r.breakGlassUsed?.at ?? r.breakGlassReview!.at))) },
      ],
      samples: sampleIds(ids([...bg, ...revoked]), seed),
      notes: [],
    },
    {
      id: 'CC7.5',
      title: 'Recovery from incidents: root cause',
      what: 'The post-incident review of each break-glass use records, in the reviewer’s words, what was done with the access and why it was needed; the review is refused empty and refused to the person who used the access.',
      status: status(bgReviewed.length > 0),
      evidence: [
        { label: 'post-incident reviews with notes', value: bgReviewed.filter((r) => r.breakGlassReview!.notes).length },
        { label: 'reviews refused (self-review, empty, not a reviewer)', value: refusals.filter((f) => f.type === A.breakGlassReviewRefused).length },
      ],
      samples: sampleIds(ids(bgReviewed), seed),
      details: bgReviewed.length
        ? { title: 'Post-incident reviews', columns: ['closed', 'request', 'reviewer', 'notes'], rows: bgReviewed.map((r) => [iso(r.breakGlassReview!.at), r.id, r.breakGlassReview!.by, (r.breakGlassReview!.notes ?? '').slice(0, 300)]) }
        : undefined,
      notes: [],
      needs: 'for root cause beyond access: your incident tool’s postmortems (PagerDuty, Jira)',
    },
    {
      id: 'CC8.1',
      title: 'Change management: authorised, recorded changes to configuration',
      what: 'The workflow files are policy as code (reviewed in your repository); every process records the hash of the files it loaded, at start and on every reload, and CA creation and rotation are audited.',
      status: status(configLoads.length > 0),
      evidence: [
        { label: 'configuration loads', value: configLoads.length },
        { label: 'distinct workflow configurations (hashes)', value: policyHashes.size },
        { label: 'CA rotations', value: count(A.caRotated) },
      ],
      samples: [],
      details: { title: 'Workflow configuration loaded', columns: ['time', 'process', 'policy sha256', 'files'], rows: configLoads.map((e) => [iso(Date.parse(e.at)), String(e.data.process ?? ''), String(e.data.policy ?? ''), Array.isArray(e.data.files) ? e.data.files.join(', ') : '']) },
      notes: [],
      needs: 'for who reviewed each change to the files: your repository’s pull-request history',
    },
  ];
  for (const c of controls) if (c.details === undefined) delete c.details;
  return {
    kind: 'soc2',
    period,
    generatedAt: now,
    chain,
    summary: {
      answered: controls.filter((c) => c.status === 'answered').length,
      partial: controls.filter((c) => c.status === 'partial').length,
      noActivity: controls.filter((c) => c.status === 'no_activity').length,
      notAnswered: controls.filter((c) => c.status === 'not_answered').length,
      events: analysis.periodCount,
    },
    controls,
    anomalies,
    other: [...analysis.other.entries()].map(([type, o]) => ({ type, count: o.count })),
  };
}

function median(values: number[]): string {
  if (!values.length) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  return formatDuration(sorted[Math.floor(sorted.length / 2)]!);
}
