import type { Approvers } from '../config/workflow-schema';
import type { AccessRequest, Actor, AuditInput, RequesterNotice, TimerKind } from '../engine/types';

/** Who people are: Slack in production, flags on the CLI. */
export interface Directory {
  /** The person behind a Slack user id, with email, name and user groups (ids and handles). */
  actor(userId: string): Promise<Actor>;
  /** Slack user ids of an approver set: users, group members, and the PagerDuty on-call by email. */
  resolveApprovers(approvers: Approvers): Promise<string[]>;
  /** User group id → handle, for showing `S04T8KQ1N2P` as `@security-team` (Slack; absent elsewhere). */
  groupHandles?(): Promise<ReadonlyMap<string, string>>;
}

/** PagerDuty, as far as access decisions need it. */
export interface OnCall {
  readonly enabled: boolean;
  /** Services whose current on-call (any escalation level) includes this person. */
  servicesOnCallFor(actor: Actor): Promise<string[]>;
  /** Triggered or acknowledged incidents on these services. */
  activeIncidents(services: string[]): Promise<{ id: string; service: string }[]>;
  /** Emails of whoever is on call at these levels of an escalation policy now. */
  oncallEmails(escalationPolicy: string, levels: number[]): Promise<string[]>;
}

/** Messages to people: Slack (and Jira as an approval channel). Failures are logged and audited, never fatal. */
export interface Notifier {
  approvers(request: AccessRequest, stage: number, reason: 'new' | 'escalated' | 'reminder'): Promise<void>;
  updateApprovalMessages(request: AccessRequest): Promise<void>;
  requester(request: AccessRequest, notice: RequesterNotice): Promise<void>;
  breakGlass(request: AccessRequest): Promise<void>;
}

/** Durable work for later: BullMQ in production. */
export interface Scheduler {
  enqueueIssuance(request: AccessRequest): Promise<void>;
  schedule(request: AccessRequest, timer: TimerKind, at: number, stage?: number, n?: number): Promise<void>;
  revokeCertificate(request: AccessRequest): Promise<void>;
  /** Closes the open extension of a grant that was just closed (see the engine's `parent_closed`). */
  closeExtensions(request: AccessRequest): Promise<void>;
}

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
