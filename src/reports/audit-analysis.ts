import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { AuditEvent } from '../audit/audit-event';

/** Everything the log says about one request, gathered from its events. Times are epoch ms. */
export interface RequestFacts {
  id: string;
  requester?: { id: string; email?: string };
  resource?: string;
  workflow?: string;
  reason?: string;
  ticket?: string;
  createdAt?: number;
  createdVia?: string;
  breakGlass?: boolean;
  adminIssued?: boolean;
  extensionOf?: string;
  approvals: { by: string; via: string; at: number; stage: number; stageName?: string }[];
  approved?: { at: number; by: string; via: string; route: string; approvers: string[]; expiresAt?: number; grantedMs?: number; seq: number };
  closed?: { type: string; at: number; by: string; via: string; comment?: string };
  cert?: { at: number; seq: number; kind?: string; serial?: string; principals: string[]; validAfter?: number; validBefore?: number };
  deliveredAt?: number;
  expired?: { at: number; expiresAt?: number };
  revoked?: { at: number; by: string; via: string; expiresAt?: number; comment?: string };
  breakGlassUsed?: { at: number; incident?: string; service?: string; reviewRequired: boolean };
  breakGlassReview?: { at: number; by: string; notes?: string };
}

export interface RefusalEvent {
  seq: number;
  at: number;
  type: string;
  code: string;
  actor: string;
  via?: string;
  requestId?: string;
  message?: string;
  data: Record<string, unknown>;
}

/** Types this version knows how to read; anything else is listed as "other events". */
const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(A));

const REFUSAL_TYPES: ReadonlySet<string> = new Set([
  A.requestRefused,
  A.reviewRefused,
  A.cancelRefused,
  A.revokeRefused,
  A.breakGlassReviewRefused,
  A.keyRefused,
  A.signatureRefused,
  A.accessReviewAnswerRefused,
]);

export const isRefusal = (type: string): boolean => REFUSAL_TYPES.has(type) || type.endsWith('_refused') || type.endsWith('.refused');

const time = (iso: string): number => Date.parse(iso);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * One pass over the log in sequence order: per-request facts plus the events that stand alone
 * (refusals, configuration loads, key and CA events, access reviews, unknown kinds). The reports
 * are views of this.
 */
export class AuditAnalysis {
  readonly requests = new Map<string, RequestFacts>();
  readonly refusals: RefusalEvent[] = [];
  readonly byType = new Map<string, AuditEvent[]>();
  /** Event kinds this version does not know (e.g. added by a newer integration): counted, listed, never dropped. */
  readonly other = new Map<string, { count: number; first: number; last: number; seqs: number[] }>();
  firstEvent?: AuditEvent;
  lastEvent?: AuditEvent;
  count = 0;
  /** Events whose time falls in the period, by type. */
  readonly periodTypes = new Map<string, number>();
  periodCount = 0;

  constructor(private readonly period?: { since: number; until: number }) {}

  /** Standalone kinds kept whole for the reports (config loads, CA and key lifecycle, reviews…). */
  private static readonly KEPT: ReadonlySet<string> = new Set([
    A.configLoaded,
    A.caCreated,
    A.caRotated,
    A.keyRegistered,
    A.keyRemoved,
    A.externalCallFailed,
    A.reminderSent,
    A.stageEscalated,
    A.stageAdvanced,
    A.requestExpiring,
    A.auditTrimmed,
    A.requestsRemoved,
    A.accessReviewStarted,
    A.accessReviewAnswered,
    A.accessReviewChangeClosed,
    A.certDelivered,
  ]);

  add(e: AuditEvent): void {
    this.count++;
    this.firstEvent ??= e;
    this.lastEvent = e;
    const at = time(e.at);
    if (this.period && at >= this.period.since && at < this.period.until) {
      this.periodCount++;
      this.periodTypes.set(e.type, (this.periodTypes.get(e.type) ?? 0) + 1);
    }
    if (!KNOWN_TYPES.has(e.type)) {
      const o = this.other.get(e.type) ?? { count: 0, first: at, last: at, seqs: [] };
      o.count++;
      o.last = at;
      if (o.seqs.length < 5) o.seqs.push(e.seq);
      this.other.set(e.type, o);
    }
    if (e.type === A.refusalsSuppressed && typeof e.data.count === 'number') {
      // Refusals beyond a person's rate limit, counted and reported as one event.
      this.refusals.push({ seq: e.seq, at, type: e.type, code: 'RATE_LIMITED', actor: e.actor.id, data: { ...e.data, suppressed: e.data.count - 1 } });
    }
    if (isRefusal(e.type)) {
      this.refusals.push({
        seq: e.seq,
        at,
        type: e.type,
        code: str(e.data.code) ?? str(e.data.reason) ?? 'UNSPECIFIED',
        actor: e.actor.id,
        ...(e.actor.via ? { via: e.actor.via } : {}),
        ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
        ...(str(e.data.message) ? { message: str(e.data.message)! } : {}),
        data: e.data,
      });
    }
    if (AuditAnalysis.KEPT.has(e.type)) {
      const list = this.byType.get(e.type) ?? [];
      list.push(e);
      this.byType.set(e.type, list);
    }
    if (e.requestId === undefined || isRefusal(e.type)) return;
    const r = this.request(e.requestId);
    const d = e.data;
    const by = e.actor.id;
    const via = e.actor.via ?? 'system';
    switch (e.type) {
      case A.requestCreated: {
        const requester = d.requester as { id?: string; email?: string } | undefined;
        if (requester?.id) r.requester = { id: requester.id, ...(requester.email ? { email: requester.email } : {}) };
        r.resource = str(d.resource);
        r.workflow = str(d.workflow);
        r.reason = str(d.reason);
        r.ticket = str(d.ticket);
        r.createdAt = at;
        r.createdVia = via;
        r.breakGlass = d.breakGlass === true;
        r.adminIssued = d.adminIssued === true;
        r.extensionOf = str(d.extensionOf);
        break;
      }
      case A.reviewApproved:
        r.approvals.push({ by, via, at, stage: num(d.stage) ?? 0, ...(str(d.stageName) ? { stageName: str(d.stageName)! } : {}) });
        break;
      case A.requestApproved:
        r.approved = {
          at,
          by,
          via,
          seq: e.seq,
          route: str(d.route) ?? 'workflow',
          approvers: Array.isArray(d.approvers) ? d.approvers.filter((x): x is string => typeof x === 'string') : [],
          ...(num(d.expiresAt) !== undefined ? { expiresAt: num(d.expiresAt)! } : {}),
          ...(num(d.grantedMs) !== undefined ? { grantedMs: num(d.grantedMs)! } : {}),
        };
        break;
      case A.requestDenied:
      case A.requestCancelled:
      case A.requestTimedOut:
      case A.requestFailed:
        r.closed = { type: e.type, at, by, via, ...(str(d.comment) ? { comment: str(d.comment)! } : {}) };
        break;
      case A.certIssued:
        r.cert = {
          at,
          seq: e.seq,
          principals: Array.isArray(d.principals) ? d.principals.filter((x): x is string => typeof x === 'string') : [],
          ...(str(d.kind) ? { kind: str(d.kind)! } : {}),
          ...(str(d.serial) ? { serial: str(d.serial)! } : {}),
          ...(num(d.validAfter) !== undefined ? { validAfter: num(d.validAfter)! } : {}),
          ...(num(d.validBefore) !== undefined ? { validBefore: num(d.validBefore)! } : {}),
        };
        break;
      case A.certDelivered:
        r.deliveredAt ??= at;
        break;
      case A.requestExpired:
        r.expired = { at, ...(num(d.expiresAt) !== undefined ? { expiresAt: num(d.expiresAt)! } : {}) };
        break;
      case A.requestRevoked:
        r.revoked = { at, by, via, ...(num(d.expiresAt) !== undefined ? { expiresAt: num(d.expiresAt)! } : {}), ...(str(d.comment) ? { comment: str(d.comment)! } : {}) };
        break;
      // Access granted by a PagerDuty incident is break-glass too: no approver, an incident behind it.
      case A.breakGlassUsed:
      case A.incidentGranted:
        r.breakGlassUsed = { at, reviewRequired: d.reviewRequired !== false, ...(str(d.incident) ? { incident: str(d.incident)! } : {}), ...(str(d.service) ? { service: str(d.service)! } : {}) };
        break;
      case A.breakGlassReviewed:
        r.breakGlassReview = { at, by, ...(str(d.notes) ? { notes: str(d.notes)! } : {}) };
        break;
      default:
        break;
    }
  }

  private request(id: string): RequestFacts {
    let r = this.requests.get(id);
    if (!r) {
      r = { id, approvals: [] };
      this.requests.set(id, r);
    }
    return r;
  }

  events(type: string): AuditEvent[] {
    return this.byType.get(type) ?? [];
  }
}
