import type { Policy } from '../config/policy';

export const REQUEST_STATES = [
  'pending',
  'approved',
  'issued',
  'expired',
  'revoked',
  'denied',
  'cancelled',
  'timed_out',
  'failed',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** How a decision reached us. */
export type Channel = 'slack' | 'jira' | 'cli' | 'pagerduty' | 'system';

export interface Person {
  /** Slack user id: the identity of record. */
  id: string;
  email?: string;
  /** The directory confirmed the email belongs to this person (Slack `is_email_confirmed`, or an admin on the CLI). */
  emailVerified?: boolean;
  /** Display or real name, for messages only. */
  name?: string;
}

/** What the certificate will say about its holder: rendered once at request time, shown to approvers, re-derived by the worker. */
export type CertificateSubject =
  | { kind: 'ssh'; principals: string[] }
  | { kind: 'x509'; commonName: string; groups: string[] };

export interface Review {
  stage: number;
  by: string;
  decision: 'approve' | 'deny';
  via: Channel;
  at: number;
  comment?: string;
  /** A review given in Jira: the account whose status change it was (read from the issue's changelog). */
  jiraAccountId?: string;
}

export interface IssuedCertificate {
  kind: 'ssh' | 'x509';
  serial: string;
  /** SHA256 fingerprint of the user's public key the certificate binds. */
  keyFingerprint: string;
  validAfter: number;
  validBefore: number;
  /** SSH principals, or X.509 subject groups (O). */
  principals: string[];
  /** The certificate: one OpenSSH line, or PEM. */
  text: string;
  issuedAt: number;
  /** Fingerprint of the CA key that signed it: which KRL section or CRL lists it when revoked. */
  caFingerprint: string;
  /** The SSH key id (request id, user, resource, approvers). */
  keyId?: string;
}

/** A PagerDuty on-call entry, as read when a decision was made: what break-glass rested on. */
export interface OnCallFact {
  service: string;
  escalationPolicy: string;
  level: number;
  /** The PagerDuty user id on call. */
  pagerdutyUser: string;
  schedule?: string;
  start?: string;
  end?: string;
}

export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

/** A PagerDuty incident as read from the API (never from a webhook body). */
export interface IncidentFact {
  id: string;
  service: string;
  status: IncidentStatus;
  number?: number;
  title?: string;
  urgency?: string;
  createdAt?: number;
  url?: string;
  /** Assigned responders: PagerDuty user id and, when looked up, their PagerDuty email. */
  assignees?: { id: string; email?: string }[];
}

export interface BreakGlass {
  incidentId?: string;
  service?: string;
  /** The incident's status when glass was broken. */
  incidentStatus?: IncidentStatus;
  /** The on-call entry the requester held when glass was broken. */
  oncall?: OnCallFact;
  reviewRequired: boolean;
  review?: { by: string; at: number; notes: string };
  /**
   * Granted by the incident itself (`break_glass.on_incident`), not asked for: the requester is an
   * assignee of `incidentId`, PagerDuty user `assignee`.
   */
  onIncident?: { assignee: string };
  /** When the incident it rests on resolved, if a grace period shortened the grant instead of revoking it. */
  incidentResolvedAt?: number;
}

/**
 * A request for access and, once approved, the grant it became. Times are epoch milliseconds.
 * `version` increases by one on every committed transition (compare-and-set).
 */
export interface AccessRequest {
  id: string;
  version: number;
  state: RequestState;
  requester: Person;
  resource: string;
  workflow: string;
  reason: string;
  ticket?: string;
  requestedMs: number;
  /** The access window length: requested, clamped to the maximum. */
  grantedMs: number;
  /** Fingerprint of the registered public key the certificate will bind. */
  keyFingerprint?: string;
  createdAt: number;
  updatedAt: number;
  stage: number;
  stageStartedAt: number;
  /** Stage indexes that were left by timeout rather than by approval. */
  escalatedStages: number[];
  reviews: Review[];
  /** Approvers of the current stage as resolved when it started (the pending-by-approver index). */
  approvers: string[];
  approvedAt?: number;
  /** Where the access window starts: the approval, or for an extension the end of the grant it extends. */
  startsAt?: number;
  expiresAt?: number;
  /** The principals (SSH) or subject (X.509) the certificate will carry, as approvers saw them. */
  subject?: CertificateSubject;
  autoApproved?: { rule: number };
  breakGlass?: BreakGlass;
  /** Grants of this resource the requester had in the 30 days before this request, for approvers. */
  recentGrants?: number;
  /** The grant this request extends, and when that grant ends: the extension's window follows on from it. */
  extension?: { of: string; previousExpiresAt: number };
  /**
   * Issued from the CLI by an admin, outside the approval workflow. `attestation` is an HMAC only
   * holders of the CA directory can make: the worker signs nothing marked admin-issued without it.
   */
  adminIssued?: { by: string; attestation?: string };
  closedAt?: number;
  closedBy?: string;
  closeReason?: string;
  certificate?: IssuedCertificate;
  failure?: string;
  /** The Jira issue this request is decided in (workflows with `approval.jira`), once created. */
  jiraIssue?: { key: string; url: string };
}

/** Who is acting, as far as the engine needs to know. */
export interface Actor {
  /** Slack user id, or `system` for timers and the reconciler. */
  id: string;
  email?: string;
  /** The directory confirmed the email (Slack `is_email_confirmed`). */
  emailVerified?: boolean;
  name?: string;
  /**
   * Slack user groups the actor belongs to: each group's id (`S0123ABCD`, exactly as Slack gives
   * it) and its handle in lowercase. An id-shaped workflow reference matches ids only, a handle
   * reference handles only (see people.ts).
   */
  groups: string[];
  /** Deactivated accounts and bots: refused whatever the policy says. */
  inactive?: 'deleted' | 'bot';
  /** Slack guests (single- and multi-channel): never part of `everyone`, only where named. */
  guest?: boolean;
  /** Acting in Jira: the account of the status change, as the issue's changelog names it (matches `jira_account_ids`). */
  jiraAccountId?: string;
}

export const SYSTEM_ACTOR: Actor = { id: 'system', groups: [] };

export interface DecisionContext {
  now: number;
  policy: Policy;
  actor: Actor;
  /** Slack user ids of each stage's approvers, resolved (groups expanded, on-call looked up). */
  approversByStage?: string[][];
  /** PagerDuty services the actor is on call for right now (any level; `oncallEntries` says which). */
  oncallServices?: string[];
  /** Whether PagerDuty is connected at all (false: nobody can be confirmed on call, so break-glass cannot happen). */
  pagerDutyConnected?: boolean;
  /** The actor's on-call entries now, for the services that matter: levels are checked against these when given. */
  oncallEntries?: OnCallFact[];
  /** Active (triggered or acknowledged) incidents on the services that matter. */
  activeIncidents?: Array<{ id: string; service: string } & Partial<IncidentFact>>;
  /** PagerDuty could not be asked (why, in a few words): break-glass is refused, never granted on a guess. */
  oncallUnavailable?: string;
  /** Whether the actor is an admin (resolved from the policy's `admins`). */
  actorIsAdmin?: boolean;
  /** Before expiry, when the requester is warned. */
  expiryWarningMs?: number;
  /** On submit: grants of the resource the requester had in the last 30 days (shown to approvers). */
  recentGrants?: number;
  /** On submit: the requester's open request for the same resource (pending or a live grant), if any. */
  openForResource?: AccessRequest;
  /** On submit of an extension: the grant's open extension, if it has one already. */
  openExtension?: AccessRequest;
  /** On a review of an extension: the grant it extends, as stored now. */
  extensionParent?: AccessRequest;
}

export type RequestEvent =
  | {
      type: 'submit';
      id: string;
      resource: string;
      durationMs?: number;
      reason: string;
      ticket?: string;
      keyFingerprint?: string;
      breakGlass?: boolean;
      /** The issued grant to extend; the requester must own it. */
      extensionOf?: AccessRequest;
      /** Admin-issued from the CLI: skips the workflow, still audited. */
      adminIssue?: boolean;
      requester: Person;
      via: Channel;
    }
  | { type: 'review'; decision: 'approve' | 'deny'; via: Channel; comment?: string }
  | { type: 'stage_timeout'; stage: number }
  | { type: 'reminder_due'; stage: number; n: number }
  | { type: 'pending_ttl' }
  | { type: 'cancel'; via: Channel; comment?: string }
  | { type: 'issued'; certificate: IssuedCertificate }
  | { type: 'issue_failed'; error: string }
  | { type: 'expire' }
  | { type: 'revoke'; via: Channel; comment?: string }
  | { type: 'break_glass_review'; via: Channel; notes: string }
  /** The post-incident review of a break-glass grant is still open: remind its reviewers. */
  | { type: 'review_reminder_due'; n: number }
  /** `userId` left (their Slack account is deactivated): their grants end, their requests and votes go. */
  | { type: 'offboarded'; userId: string; reason: string; source: 'user_change' | 'sweep' }
  /**
   * A PagerDuty incident assigned `requester` (an assignee mapped to a Slack user with a confirmed
   * email): a grant without a request, for a resource its workflow links to the incident's service.
   * `incident` is as re-read from the API, never from the webhook body.
   */
  | {
      type: 'incident_grant';
      id: string;
      resource: string;
      requester: Person;
      /** The assignee as the directory sees them now (groups, whether deactivated): eligibility is checked on this. */
      requesterActor: Actor;
      keyFingerprint?: string;
      incident: IncidentFact;
      assignee: string;
    }
  /** The incident behind an incident grant resolved (re-read from the API): the grant ends now, or after the grace. */
  | { type: 'incident_resolved'; incident: IncidentFact }
  /** The grant this request extends was closed: a pending extension is cancelled, a live one revoked unless the grant simply ran out. */
  | { type: 'parent_closed'; parent: AccessRequest };

export type RequestEventType = RequestEvent['type'];

export type TimerKind = 'stage_timeout' | 'reminder' | 'pending_ttl' | 'expiry' | 'expiry_warning' | 'review_reminder';

export type RequesterNotice =
  | 'pending'
  /** An intermediate stage passed: who approved, and who decides next. */
  | 'stage_approved'
  | 'approved'
  | 'denied'
  | 'timed_out'
  | 'cancelled'
  | 'issued'
  | 'failed'
  | 'expiring'
  | 'expired'
  | 'revoked';

/** An audit event before the log gives it a sequence number and hashes. */
export interface AuditInput {
  type: string;
  actor: { id: string; via?: Channel };
  requestId?: string;
  data: Record<string, unknown>;
}

export type Effect =
  | { type: 'audit'; event: AuditInput }
  | { type: 'notify_approvers'; stage: number; reason: 'new' | 'escalated' | 'reminder' }
  | { type: 'update_approval_messages' }
  | { type: 'notify_requester'; notice: RequesterNotice }
  | { type: 'enqueue_issuance' }
  | { type: 'schedule'; timer: TimerKind; at: number; stage?: number; n?: number }
  | { type: 'revoke_certificate' }
  /** Close this request's open extension (durable: a queued job, backstopped by the reconciler). */
  | { type: 'close_extensions' }
  | { type: 'notify_break_glass' }
  /** Tell the break-glass reviewers that a post-incident review is open, still open (n-th reminder), or closed. */
  | { type: 'notify_break_glass_review'; phase: 'opened' | 'reminder' | 'closed'; n?: number }
  /** Post a note on the PagerDuty incident a break-glass grant rests on: who, what, until when, the request id. */
  | { type: 'post_incident_note'; event: 'granted' | 'ended' };

export type RefusalCode =
  | 'UNKNOWN_RESOURCE'
  | 'NOT_ELIGIBLE'
  | 'REASON_REQUIRED'
  | 'REASON_INVALID'
  | 'FIELD_TOO_LONG'
  | 'TICKET_REQUIRED'
  | 'TICKET_INVALID'
  | 'DURATION_INVALID'
  | 'DURATION_TOO_LONG'
  | 'KEY_REQUIRED'
  | 'BREAK_GLASS_NOT_ALLOWED'
  | 'EXTENSION_INVALID'
  | 'NOT_PENDING'
  | 'NOT_APPROVER'
  | 'SELF_APPROVAL'
  | 'ALREADY_REVIEWED'
  | 'NOT_ALLOWED'
  | 'NOT_ACTIVE'
  | 'NO_REVIEW_DUE'
  | 'COMMENT_REQUIRED'
  | 'ALREADY_OPEN'
  | 'IDENTITY_UNRESOLVED'
  | 'RESERVED_LOGIN'
  | 'RATE_LIMITED';

export type Decision =
  | { kind: 'transition'; request: AccessRequest; effects: Effect[] }
  /** Nothing changes; `effects` holds the audit of the refusal. */
  | { kind: 'refused'; code: RefusalCode; message: string; effects: Effect[] }
  /** Nothing changes and nothing is audited: a stale timer, a repeated click. */
  | { kind: 'noop'; reason: string };

export type { Policy };
