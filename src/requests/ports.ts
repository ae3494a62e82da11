import type { Approvers } from '../config/workflow-schema';
import type { AccessRequest, Actor, AuditInput, IncidentFact, OnCallFact, RequesterNotice, TimerKind } from '../engine/types';

/** Who people are: Slack in production, flags on the CLI. */
export interface Directory {
  /** The person behind a Slack user id, with email, name and user groups (ids and handles). */
  actor(userId: string): Promise<Actor>;
  /** Slack user ids of an approver set: users, group members, and the PagerDuty on-call by email. */
  resolveApprovers(approvers: Approvers): Promise<string[]>;
  /** User group id → handle, for showing `S04T8KQ1N2P` as `@security-team` (Slack; absent elsewhere). */
  groupHandles?(): Promise<ReadonlyMap<string, string>>;
  /** Drops what is cached about a person, so the next lookup asks Slack (a deactivation must not wait out a cache). */
  forget?(userId: string): void;
}

/** Who is on call for a service now, and what is burning on it: the on-call context of approval messages. */
export interface OnCallContext {
  service: string;
  serviceName?: string;
  /** Levels 1 and 2 of the service's escalation policy: who is on call, with their PagerDuty email. */
  oncall: { level: number; name?: string; email?: string }[];
  /** Triggered and acknowledged incidents, newest first. */
  incidents: IncidentFact[];
}

/**
 * PagerDuty, as far as access decisions need it. Every method reads PagerDuty now (the on-call
 * context excepted, cached briefly) and throws when PagerDuty cannot be asked: callers decide what
 * a failure means, and it never means yes.
 */
export interface OnCall {
  readonly enabled: boolean;
  /**
   * The person's on-call entries now for these services (their escalation policies, any level),
   * found through their PagerDuty user by the person's email, only when the directory confirmed it.
   */
  oncallFor(actor: Actor, services: string[]): Promise<OnCallFact[]>;
  /** Triggered or acknowledged incidents on these services. */
  activeIncidents(services: string[]): Promise<IncidentFact[]>;
  /** Emails of whoever is on call at these levels of an escalation policy now. */
  oncallEmails(escalationPolicy: string, levels: number[]): Promise<string[]>;
  /** One incident re-read from the API, with its assignees' PagerDuty emails; undefined when it does not exist. */
  incident(id: string): Promise<IncidentFact | undefined>;
  /** Levels 1 and 2 of a service's on-call and its open incidents (cached briefly). */
  context(service: string): Promise<OnCallContext>;
  /** Adds a note to an incident (the `From:` is PAGERDUTY_FROM_EMAIL). */
  postNote(incidentId: string, content: string): Promise<void>;
}

/** Messages to people: Slack (and Jira as an approval channel). Failures are logged and audited, never fatal. */
export interface Notifier {
  approvers(request: AccessRequest, stage: number, reason: 'new' | 'escalated' | 'reminder'): Promise<void>;
  updateApprovalMessages(request: AccessRequest): Promise<void>;
  requester(request: AccessRequest, notice: RequesterNotice): Promise<void>;
  breakGlass(request: AccessRequest): Promise<void>;
  /** The post-incident review of a break-glass grant: opened (reviewers asked to close it), reminded, closed. */
  breakGlassReview(request: AccessRequest, phase: 'opened' | 'reminder' | 'closed', n?: number): Promise<void>;
  /** A plain direct message to a person (e.g. an incident assignee told to register a key). */
  direct(userId: string, text: string): Promise<void>;
}

/** Durable work for later: BullMQ in production. */
export interface Scheduler {
  enqueueIssuance(request: AccessRequest): Promise<void>;
  schedule(request: AccessRequest, timer: TimerKind, at: number, stage?: number, n?: number): Promise<void>;
  revokeCertificate(request: AccessRequest): Promise<void>;
  /** Closes the open extension of a grant that was just closed (see the engine's `parent_closed`). */
  closeExtensions(request: AccessRequest): Promise<void>;
  /**
   * Hands a requester DM to the delivery lane (retried until delivered, never behind message
   * updates). Without it, the notifier sends it inline.
   */
  deliverToRequester?(request: AccessRequest, notice: DeliveredNotice): Promise<void>;
}

/** Requester notices the delivery lane carries: the certificate, and the approval it follows. */
export type DeliveredNotice = 'issued' | 'approved';

export interface RegisteredKey {
  fingerprint: string;
  /** Which certificates it can go into. */
  kind: 'ssh' | 'x509';
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, or for X.509: rsa, ec, ed25519. */
  algorithm: string;
  /** The public key as the user gave it: an OpenSSH line, a PEM public key or a CSR. */
  text: string;
  addedAt: number;
  comment?: string;
}

/** Users' registered public keys: the private keys never leave their machines. */
export interface KeyRegistry {
  latest(userId: string, kind: 'ssh' | 'x509'): Promise<RegisteredKey | undefined>;
  get(userId: string, fingerprint: string): Promise<RegisteredKey | undefined>;
}

export type CommitOutcome =
  | { ok: true; request: AccessRequest; auditSeq: number }
  /** Lost a race: the stored version moved on. */
  | { ok: false; currentVersion: number }
  /** The slot the request needs (one open request per person and resource) is held by another request. */
  | { ok: false; slotHeldBy: string };

/** Request records: compare-and-set commits with their audit events (Redis in production). */
export interface RequestStore {
  get(id: string): Promise<AccessRequest | undefined>;
  commit(previous: AccessRequest | undefined, next: AccessRequest, audit: AuditInput[], now: number): Promise<CommitOutcome>;
  /** The person's open request for the resource: through the workflow, or (`breakGlass`) a break-glass grant. */
  openRequestFor(userId: string, resource: string, breakGlass: boolean): Promise<AccessRequest | undefined>;
  /** The grant's open extension, if it has one. */
  openExtensionOf(parentId: string): Promise<AccessRequest | undefined>;
  /** The person's requests, newest first. */
  listByRequester(userId: string, limit?: number): Promise<AccessRequest[]>;
}

/** What offboarding walks: a person's requests and votes, and everyone holding access or waiting for it. */
export interface OffboardingStore {
  walkByRequester(userId: string): AsyncIterable<AccessRequest[]>;
  walkPendingForApprover(userId: string): AsyncIterable<AccessRequest[]>;
  walkByState(state: 'pending'): AsyncIterable<AccessRequest[]>;
  walkActiveEndingBy(until: number): AsyncIterable<AccessRequest[]>;
}

/** Told of every committed transition (metrics): must not throw, and must not wait on I/O. */
export interface TransitionObserver {
  transitioned(previous: AccessRequest | undefined, next: AccessRequest, now: number): void;
}

/** The audit log, for events that belong to no state change. */
export interface AuditAppender {
  append(inputs: AuditInput[], now: number): Promise<number>;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Hits in the current window, this one included. */
  count: number;
  /** How long until the window ends, when not allowed. */
  retryAfterMs: number;
  windowTtlMs: number;
}

/** Per-person limits shared by every replica (Redis in production). */
export interface RateLimiter {
  take(bucket: string, subject: string, limit: number, windowMs: number, now: number): Promise<RateLimitResult>;
  /** Counts one refusal that was not written to the audit log; returns the count so far. */
  countSuppressed(subject: string, now: number): Promise<number>;
  /** The count of suppressed refusals (and since when), cleared, so one replica reports it. */
  takeSuppressed(subject: string): Promise<{ count: number; since: number } | undefined>;
  suppressedSubjects(): Promise<{ subject: string; since: number }[]>;
}
