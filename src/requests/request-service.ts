import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { Policy } from '../config/policy';
import type { Approvers } from '../config/workflow-schema';
import { decide } from '../engine/request-machine';
import {
  SYSTEM_ACTOR,
  type AccessRequest,
  type Actor,
  type AuditInput,
  type Channel,
  type DecisionContext,
  type Effect,
  type IncidentFact,
  type IssuedCertificate,
  type Person,
  type RefusalCode,
  type RequestEvent,
  type TimerKind,
} from '../engine/types';
import type { Logger } from '../log/logger';
import type { EffectRunner } from './effect-runner';
import { TransitionConflictError } from './errors/transition-conflict-error';
import type { AuditAppender, Directory, KeyRegistry, OnCall, RateLimiter, RequestStore, TransitionObserver } from './ports';
import { RECENT_GRANTS_WINDOW_MS } from './approval-facts';
import { JIRA_ACTOR_PREFIX } from '../engine/people';
import { newRequestId } from './request-id';

export type ServiceResult =
  | { status: 'ok'; request: AccessRequest }
  /** Nothing changed and nothing is wrong: a repeated click, a stale timer. */
  | { status: 'noop'; request?: AccessRequest; message: string }
  /** Refused and audited; `message` is for the person. */
  | { status: 'refused'; code: RefusalCode | 'REQUEST_NOT_FOUND'; message: string; request?: AccessRequest };

export interface SubmitInput {
  resource: string;
  durationMs?: number;
  reason: string;
  ticket?: string;
  breakGlass?: boolean;
  /** Id of the issued grant to extend. */
  extensionOf?: string;
  /** A specific registered key; otherwise the newest of the right kind. */
  keyFingerprint?: string;
  via: Channel;
  /** Admin issuing for someone else from the CLI (skips the workflow; audited). */
  adminIssueFor?: Person;
  /**
   * Attests an admin-issued request before it is committed (the CLI derives the key from the CA
   * directory); the worker signs no admin-issued record without it.
   */
  attestAdminIssue?: (request: AccessRequest) => string;
}

/** How many requests a person may make, and how many of their refusals are written one by one, per window. */
export interface PersonLimits {
  requests: { limit: number; windowMs: number };
  refusals: { limit: number; windowMs: number };
}

export const DEFAULT_PERSON_LIMITS: PersonLimits = {
  requests: { limit: 10, windowMs: 60_000 },
  refusals: { limit: 20, windowMs: 60_000 },
};

export interface RequestServiceDeps {
  store: RequestStore;
  audit: AuditAppender;
  rateLimiter?: RateLimiter;
  limits?: PersonLimits;
  policy: () => Policy;
  directory: Directory;
  oncall: OnCall;
  keys: KeyRegistry;
  effects: EffectRunner;
  logger: Logger;
  clock?: () => number;
  newId?: () => string;
  expiryWarningMs?: number;
  /** Metrics: every committed transition. */
  observer?: TransitionObserver;
}

const MAX_ATTEMPTS = 20;

/**
 * Actors from the command line (`cli:<os user>`) are admins: whoever runs the CLI on a server
 * already holds Redis access, which is stronger than any admin right. Slack ids never look like this.
 */
export const CLI_ACTOR_PREFIX = 'cli:';

/** The actor of grants PagerDuty's incidents make (the audit says who was granted, and why). */
export const PAGERDUTY_ACTOR_ID = 'pagerduty';

/**
 * The one way requests change. Builds the decision context (who the actor is, who approves, who is
 * on call), asks the engine, commits with compare-and-set (re-reading and re-deciding on a lost
 * race), then carries out the effects. Refusals are audited and change nothing else.
 */
export class RequestService {
  private readonly clock: () => number;
  private readonly newId: () => string;

  constructor(private readonly deps: RequestServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    this.newId = deps.newId ?? newRequestId;
  }

  get policy(): Policy {
    return this.deps.policy();
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    return this.deps.store.get(id);
  }

  async submit(actorId: string, input: SubmitInput): Promise<ServiceResult> {
    const actor = await this.deps.directory.actor(actorId);
    const policy = this.policy;
    const resource = policy.resources.get(input.resource);
    const requester: Person = input.adminIssueFor ?? {
      id: actor.id,
      ...(actor.email ? { email: actor.email } : {}),
      ...(actor.emailVerified ? { emailVerified: true } : {}),
      ...(actor.name ? { name: actor.name } : {}),
    };

    const limited = await this.requestRateLimited(actor, input);
    if (limited) return limited;

    let keyFingerprint = input.keyFingerprint;
    if (resource && keyFingerprint === undefined) {
      keyFingerprint = (await this.deps.keys.latest(requester.id, resource.ssh ? 'ssh' : 'x509'))?.fingerprint;
    } else if (resource && keyFingerprint !== undefined && !(await this.deps.keys.get(requester.id, keyFingerprint))) {
      keyFingerprint = undefined;
    }

    let extensionOf: AccessRequest | undefined;
    if (input.extensionOf !== undefined) {
      extensionOf = await this.deps.store.get(input.extensionOf);
      if (!extensionOf) return this.notFound(input.extensionOf, actor, input.via, A.requestRefused);
    }

    const event: RequestEvent = {
      type: 'submit',
      id: this.newId(),
      resource: input.resource,
      reason: input.reason,
      requester,
      via: input.via,
      ...(input.durationMs !== undefined ? { durationMs: input.durationMs } : {}),
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
      ...(keyFingerprint !== undefined ? { keyFingerprint } : {}),
      ...(input.breakGlass ? { breakGlass: true } : {}),
      ...(extensionOf ? { extensionOf } : {}),
      ...(input.adminIssueFor ? { adminIssue: true } : {}),
    };

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Re-read on every attempt: a lost race for the person's slot means another request of theirs
      // was just committed, and the engine then refuses this one, pointing at it.
      const ctx = await this.context(undefined, event, actor);
      const result = await this.decideAndCommit(undefined, event, ctx, input.attestAdminIssue);
      if (result !== 'conflict') return result;
      event.id = this.newId();
    }
    throw new TransitionConflictError(event.id);
  }

  /**
   * The grant `parentId` was closed: its open extension follows (cancelled while pending, revoked
   * when live unless the grant just ran out). Idempotent; the chain continues through the
   * extension's own `close_extensions` effect.
   */
  async closeExtensions(parentId: string): Promise<ServiceResult> {
    const parent = await this.deps.store.get(parentId);
    if (!parent) return { status: 'noop', message: `request ${parentId} does not exist` };
    const child = await this.deps.store.openExtensionOf(parentId);
    if (!child) return { status: 'noop', message: 'no open extension', request: parent };
    return this.act(child.id, 'system', { type: 'parent_closed', parent });
  }

  /**
   * A person's requests per window. Refused beyond it (and the refusal is itself subject to the
   * refusal limit), so a script or a stuck key cannot flood approvers with DMs.
   */
  private async requestRateLimited(actor: Actor, input: SubmitInput): Promise<ServiceResult | undefined> {
    const limiter = this.deps.rateLimiter;
    if (!limiter || actor.id.startsWith(CLI_ACTOR_PREFIX)) return undefined;
    const { limit, windowMs } = this.limits.requests;
    const taken = await limiter.take('requests', actor.id, limit, windowMs, this.clock());
    if (taken.allowed) return undefined;
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    const message = `You have made ${limit} requests in the last ${Math.round(windowMs / 1000)} s, the most allowed. Try again in ${seconds} s.`;
    await this.appendRefusal(actor.id, [
      {
        type: A.requestRefused,
        actor: { id: actor.id, via: input.via },
        data: { code: 'RATE_LIMITED', message, resource: input.resource, requester: actor.id },
      },
    ]);
    return { status: 'refused', code: 'RATE_LIMITED', message };
  }

  private get limits(): PersonLimits {
    return this.deps.limits ?? DEFAULT_PERSON_LIMITS;
  }

  /**
   * Writes a refusal's audit events, unless the person is past their refusal limit for the window:
   * then it is counted, and the count is written once (here, when they are next within the limit,
   * or by the reconciler's `flushSuppressedRefusals`). The first refusal over the limit says so.
   */
  private async appendRefusal(actorId: string, events: AuditInput[]): Promise<void> {
    const limiter = this.deps.rateLimiter;
    const now = this.clock();
    if (!limiter || actorId === 'system' || actorId === PAGERDUTY_ACTOR_ID || actorId.startsWith(CLI_ACTOR_PREFIX)) {
      await this.deps.audit.append(events, now);
      return;
    }
    const { limit, windowMs } = this.limits.refusals;
    const taken = await limiter.take('refusals', actorId, limit, windowMs, now);
    if (taken.allowed) {
      const earlier = await limiter.takeSuppressed(actorId);
      await this.deps.audit.append([...(earlier ? [suppressedEvent(actorId, earlier, now)] : []), ...events], now);
      return;
    }
    const count = await limiter.countSuppressed(actorId, now);
    if (count === 1) {
      await this.deps.audit.append(
        [
          {
            type: A.refusalsSuppressed,
            actor: { id: actorId, via: 'system' },
            data: { started: true, limit, windowMs, message: `More than ${limit} refusals in a window: further refusals of ${actorId} are counted, then reported as one event.` },
          },
        ],
        now,
      );
    }
  }

  /** Reports counted refusals whose window has passed (run by the reconciler, so a burst that then stops is still reported). */
  async flushSuppressedRefusals(): Promise<number> {
    const limiter = this.deps.rateLimiter;
    if (!limiter) return 0;
    const now = this.clock();
    let flushed = 0;
    for (const { subject, since } of await limiter.suppressedSubjects()) {
      if (now - since < this.limits.refusals.windowMs) continue;
      const taken = await limiter.takeSuppressed(subject);
      if (!taken) continue;
      await this.deps.audit.append([suppressedEvent(subject, taken, now)], now);
      flushed++;
    }
    return flushed;
  }

  review(requestId: string, actorId: string, decision: 'approve' | 'deny', via: Channel, comment?: string) {
    return this.act(requestId, actorId, { type: 'review', decision, via, ...(comment !== undefined ? { comment } : {}) }, A.reviewRefused);
  }

  /**
   * A status change in Jira, re-read from the issue's changelog: a review like any other, counted
   * toward the stage's threshold, distinct approvers and self-approval the same way. `slackUserId` is
   * the Slack user the Jira account maps to by email; without one the actor is `jira:<accountId>`,
   * who counts only where the workflow lists the account in `jira_account_ids`.
   */
  async reviewInJira(
    requestId: string,
    reviewer: { accountId: string; slackUserId?: string; name?: string },
    decision: 'approve' | 'deny',
    comment?: string,
  ): Promise<ServiceResult> {
    const base: Actor = reviewer.slackUserId
      ? await this.deps.directory.actor(reviewer.slackUserId)
      : { id: `${JIRA_ACTOR_PREFIX}${reviewer.accountId}`, groups: [], ...(reviewer.name ? { name: reviewer.name } : {}) };
    const actor: Actor = { ...base, jiraAccountId: reviewer.accountId };
    return this.act(requestId, actor, { type: 'review', decision, via: 'jira', ...(comment !== undefined ? { comment } : {}) }, A.reviewRefused);
  }

  /**
   * Records the Jira issue a request is decided in (once: a request has one issue), audited as
   * `jira.issue_created`, and re-renders the Slack messages so they link it.
   */
  async recordJiraIssue(requestId: string, issue: { key: string; url: string; id: string; found?: boolean }): Promise<AccessRequest | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.deps.store.get(requestId);
      if (!current) return undefined;
      if (current.jiraIssue) return current;
      const now = this.clock();
      const next: AccessRequest = { ...current, jiraIssue: { key: issue.key, url: issue.url } };
      const committed = await this.deps.store.commit(
        current,
        next,
        [
          {
            type: A.jiraIssueCreated,
            actor: { id: 'system', via: 'jira' },
            requestId,
            data: { key: issue.key, id: issue.id, url: issue.url, ...(issue.found ? { foundAfterLostAnswer: true } : {}) },
          },
        ],
        now,
      );
      if (committed.ok) {
        await this.deps.effects.run(committed.request, [{ type: 'update_approval_messages' }]);
        return committed.request;
      }
    }
    throw new TransitionConflictError(requestId);
  }

  cancel(requestId: string, actorId: string, via: Channel, comment?: string) {
    return this.act(requestId, actorId, { type: 'cancel', via, ...(comment !== undefined ? { comment } : {}) }, A.cancelRefused);
  }

  revoke(requestId: string, actorId: string, via: Channel, comment?: string) {
    return this.act(requestId, actorId, { type: 'revoke', via, ...(comment !== undefined ? { comment } : {}) }, A.revokeRefused);
  }

  /**
   * Grants `resource` to the assignee of a PagerDuty incident (`break_glass.on_incident`), with no
   * request. `incident` must have been re-read from the API just now; `slackUserId` is the Slack
   * user its assignee maps to by a confirmed email. Refusals (no key, not eligible, already open)
   * are audited and change nothing.
   */
  async grantForIncident(input: { resource: string; slackUserId: string; assignee: string; incident: IncidentFact }): Promise<ServiceResult> {
    const policy = this.policy;
    const resource = policy.resources.get(input.resource);
    const person = await this.deps.directory.actor(input.slackUserId);
    const requester: Person = {
      id: person.id,
      ...(person.email ? { email: person.email } : {}),
      ...(person.emailVerified ? { emailVerified: true } : {}),
      ...(person.name ? { name: person.name } : {}),
    };
    const keyFingerprint = resource ? (await this.deps.keys.latest(person.id, resource.ssh ? 'ssh' : 'x509'))?.fingerprint : undefined;
    const event: RequestEvent = {
      type: 'incident_grant',
      id: this.newId(),
      resource: input.resource,
      requester,
      requesterActor: person,
      assignee: input.assignee,
      incident: input.incident,
      ...(keyFingerprint ? { keyFingerprint } : {}),
    };
    const actor: Actor = { id: PAGERDUTY_ACTOR_ID, groups: [] };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const ctx = await this.context(undefined, event, actor);
      const result = await this.decideAndCommit(undefined, event, ctx);
      if (result !== 'conflict') return result;
      event.id = this.newId();
    }
    throw new TransitionConflictError(event.id);
  }

  /** The incident behind an incident grant resolved (re-read from the API): the grant ends now, or after the workflow's grace. */
  endIncidentGrant(requestId: string, incident: IncidentFact): Promise<ServiceResult> {
    return this.act(requestId, 'system', { type: 'incident_resolved', incident });
  }

  /** `userId` left: ends their grant or request `requestId`, or withdraws their vote on it (see engine/events/offboarded.ts). */
  offboard(requestId: string, userId: string, reason: string, source: 'user_change' | 'sweep'): Promise<ServiceResult> {
    return this.act(requestId, 'system', { type: 'offboarded', userId, reason, source });
  }

  reviewBreakGlass(requestId: string, actorId: string, via: Channel, notes: string) {
    return this.act(requestId, actorId, { type: 'break_glass_review', via, notes }, A.breakGlassReviewRefused);
  }

  /** A timer fired (from the worker). Stale timers are no-ops. */
  handleTimer(requestId: string, timer: TimerKind, stage?: number, n?: number): Promise<ServiceResult> {
    const event: RequestEvent =
      timer === 'stage_timeout'
        ? { type: 'stage_timeout', stage: stage ?? 0 }
        : timer === 'reminder'
          ? { type: 'reminder_due', stage: stage ?? 0, n: n ?? 0 }
          : timer === 'pending_ttl'
            ? { type: 'pending_ttl' }
            : { type: 'expire' };
    if (timer === 'expiry_warning') return this.expiryWarning(requestId);
    if (timer === 'review_reminder') return this.act(requestId, 'system', { type: 'review_reminder_due', n: n ?? 0 });
    return this.act(requestId, 'system', event);
  }

  /** `current`: the request as the caller just read it, saving a read when nobody changed it since. */
  recordIssued(requestId: string, certificate: IssuedCertificate, current?: AccessRequest): Promise<ServiceResult> {
    return this.act(requestId, 'system', { type: 'issued', certificate }, undefined, current);
  }

  recordIssueFailed(requestId: string, error: string): Promise<ServiceResult> {
    return this.act(requestId, 'system', { type: 'issue_failed', error });
  }

  /** Warns the requester that access ends soon (audited); changes no state. */
  private async expiryWarning(requestId: string): Promise<ServiceResult> {
    const request = await this.deps.store.get(requestId);
    if (!request || request.state !== 'issued') return { status: 'noop', message: 'no active grant', ...(request ? { request } : {}) };
    const endsAt = request.certificate?.validBefore ?? request.expiresAt;
    await this.deps.audit.append(
      [{ type: A.requestExpiring, actor: { id: 'system', via: 'system' }, requestId, data: { endsAt } }],
      this.clock(),
    );
    await this.deps.effects.run(request, [{ type: 'notify_requester', notice: 'expiring' }]);
    return { status: 'ok', request };
  }

  private async act(
    requestId: string,
    actorOrId: string | Actor,
    event: RequestEvent,
    refusedType?: string,
    known?: AccessRequest,
  ): Promise<ServiceResult> {
    const actor = typeof actorOrId !== 'string' ? actorOrId : actorOrId === 'system' ? SYSTEM_ACTOR : await this.deps.directory.actor(actorOrId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = attempt === 0 && known?.id === requestId ? known : await this.deps.store.get(requestId);
      if (!current) {
        if (refusedType === undefined) return { status: 'noop', message: `request ${requestId} does not exist` };
        return this.notFound(requestId, actor, 'via' in event ? event.via : 'system', refusedType);
      }
      const ctx = await this.context(current, event, actor);
      const result = await this.decideAndCommit(current, event, ctx);
      if (result !== 'conflict') return result;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
    throw new TransitionConflictError(requestId);
  }

  private async decideAndCommit(
    current: AccessRequest | undefined,
    event: RequestEvent,
    ctx: DecisionContext,
    attestAdminIssue?: (request: AccessRequest) => string,
  ): Promise<ServiceResult | 'conflict'> {
    const now = this.clock();
    const decision = decide(current, event, { ...ctx, now });
    if (decision.kind === 'noop') return { status: 'noop', message: decision.reason, ...(current ? { request: current } : {}) };
    if (decision.kind === 'refused') {
      await this.appendRefusal(ctx.actor.id, auditsOf(decision.effects));
      return { status: 'refused', code: decision.code, message: decision.message, ...(current ? { request: current } : {}) };
    }
    let next = decision.request;
    if (next.adminIssued && !current && attestAdminIssue) next = { ...next, adminIssued: { ...next.adminIssued, attestation: attestAdminIssue(next) } };
    const committed = await this.deps.store.commit(current, next, auditsOf(decision.effects), now);
    if (!committed.ok) return 'conflict';
    this.deps.observer?.transitioned(current, committed.request, now);
    await this.deps.effects.run(committed.request, decision.effects);
    return { status: 'ok', request: committed.request };
  }

  private async notFound(requestId: string, actor: Actor, via: Channel, type: string): Promise<ServiceResult> {
    const message = `There is no request with id ${requestId}.`;
    await this.appendRefusal(actor.id, [{ type, actor: { id: actor.id, via }, requestId, data: { code: 'REQUEST_NOT_FOUND', message } }]);
    return { status: 'refused', code: 'REQUEST_NOT_FOUND', message };
  }

  /** Grants of `resource` the person had (approved at some point) in the last 30 days: approvers are shown it. */
  private async recentGrants(userId: string, resource: string, now: number): Promise<number> {
    const since = now - RECENT_GRANTS_WINDOW_MS;
    const mine = await this.deps.store.listByRequester(userId, 100);
    return mine.filter((r) => r.resource === resource && r.approvedAt !== undefined && r.approvedAt >= since).length;
  }

  /**
   * A stage's approvers now. When its PagerDuty on-call cannot be looked up, the request still
   * reaches the other approvers named (the approval message says the on-call is unknown).
   */
  private async resolveStageApprovers(approvers: Approvers): Promise<string[]> {
    try {
      return await this.deps.directory.resolveApprovers(approvers);
    } catch (err) {
      if (!approvers.pagerduty_oncall) throw err;
      this.deps.logger.warn({ err, escalationPolicy: approvers.pagerduty_oncall.escalation_policy }, 'on-call approvers unavailable; the others decide');
      const { pagerduty_oncall: _oncall, ...others } = approvers;
      return others.users?.length || others.slack_groups?.length ? this.deps.directory.resolveApprovers(others) : [];
    }
  }

  /** Resolves only what this event can need: approvers of the stages it may move to, on-call for break-glass. */
  private async context(current: AccessRequest | undefined, event: RequestEvent, actor: Actor): Promise<DecisionContext> {
    const policy = this.policy;
    const ctx: DecisionContext = {
      now: this.clock(),
      policy,
      actor,
      ...(actor.id.startsWith(CLI_ACTOR_PREFIX) ? { actorIsAdmin: true } : {}),
      ...(this.deps.expiryWarningMs !== undefined ? { expiryWarningMs: this.deps.expiryWarningMs } : {}),
    };
    const resourceName = current?.resource ?? (event.type === 'submit' || event.type === 'incident_grant' ? event.resource : undefined);
    const resource = resourceName !== undefined ? policy.resources.get(resourceName) : undefined;
    const workflow = policy.workflows.get(current?.workflow ?? resource?.workflow ?? '');
    if (!workflow) return ctx;

    const stages: number[] = [];
    if (event.type === 'submit') stages.push(0);
    else if (current?.state === 'pending' && event.type === 'review') stages.push(current.stage, current.stage + 1);
    else if (current?.state === 'pending' && event.type === 'stage_timeout') stages.push(current.stage + 1);
    const approversByStage: string[][] = [];
    await Promise.all(
      stages.map(async (i) => {
        const stage = workflow.stages[i];
        if (stage) approversByStage[i] = await this.resolveStageApprovers(stage.approvers);
      }),
    );
    ctx.approversByStage = approversByStage;

    if (event.type === 'submit' && !event.adminIssue) {
      const requesterId = event.requester.id;
      if (event.extensionOf) {
        const open = await this.deps.store.openExtensionOf(event.extensionOf.id);
        if (open) ctx.openExtension = open;
      } else {
        const open = await this.deps.store.openRequestFor(requesterId, event.resource, event.breakGlass === true);
        if (open) ctx.openForResource = open;
      }
    }
    if (event.type === 'submit') ctx.recentGrants = await this.recentGrants(event.requester.id, event.resource, ctx.now);
    if (current?.extension && current.state === 'pending' && event.type === 'review') {
      const parent = await this.deps.store.get(current.extension.of);
      if (parent) ctx.extensionParent = parent;
    }

    if (event.type === 'submit' && event.breakGlass) ctx.pagerDutyConnected = this.deps.oncall.enabled;
    if (event.type === 'submit' && event.breakGlass && workflow.break_glass && this.deps.oncall.enabled) {
      // Read now, never cached: break-glass rests on what PagerDuty says at this moment. A failure
      // refuses (the engine says why), it never grants.
      const services = workflow.break_glass.pagerduty_services;
      try {
        const [entries, activeIncidents] = await Promise.all([this.deps.oncall.oncallFor(actor, services), this.deps.oncall.activeIncidents(services)]);
        ctx.oncallEntries = entries;
        ctx.oncallServices = [...new Set(entries.map((e) => e.service))];
        ctx.activeIncidents = activeIncidents;
      } catch (err) {
        ctx.oncallUnavailable = failureReason(err);
        this.deps.logger.warn({ err, requester: actor.id, resource: event.resource }, 'PagerDuty could not be asked for break-glass; refusing it');
      }
    }
    if (event.type === 'incident_grant') {
      const open = await this.deps.store.openRequestFor(event.requester.id, event.resource, true);
      if (open) ctx.openForResource = open;
    }
    return ctx;
  }
}

/** The few words a person is told when an outside service failed: the error's `reason` when it has one. */
function failureReason(err: unknown): string {
  const reason = (err as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return err instanceof Error ? err.message.slice(0, 200) : 'an unexpected error';
}

function auditsOf(effects: Effect[]): AuditInput[] {
  return effects.flatMap((e) => (e.type === 'audit' ? [e.event] : []));
}

function suppressedEvent(actorId: string, taken: { count: number; since: number }, now: number): AuditInput {
  return {
    type: A.refusalsSuppressed,
    actor: { id: actorId, via: 'system' },
    data: {
      count: taken.count,
      since: new Date(taken.since).toISOString(),
      until: new Date(now).toISOString(),
      message: `${taken.count} refusal${taken.count === 1 ? '' : 's'} of ${actorId} beyond the rate limit were counted, not written one by one.`,
    },
  };
}
