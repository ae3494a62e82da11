import { formatDuration } from '../config/duration';
import type { Resource, Workflow } from '../config/policy';
import { AUDIT_EVENT_TYPES as A } from '../audit/audit-event-types';
import { isInPeople, isNamedApprover, describeApprovers } from './people';
import { grantWindow, matchAutoApproveRule, resolveDuration, checkBreakGlass, checkReason, checkTicket } from './policy-rules';
import type {
  AccessRequest,
  Actor,
  AuditInput,
  Channel,
  Decision,
  DecisionContext,
  Effect,
  RefusalCode,
  RequestEvent,
} from './types';

/** Reminders back off (x2 each time) and stop after this many. */
export const MAX_REMINDERS = 8;
/** A timer that fires this early is treated as stale (clocks of replicas differ slightly). */
const TIMER_TOLERANCE_MS = 2_000;

type Submit = Extract<RequestEvent, { type: 'submit' }>;

/**
 * The request state machine. Pure: everything it needs is in `request`, `event` and `ctx`, and
 * everything it wants done comes back as effects. The caller commits the returned request and the
 * audit effects in one compare-and-set, then carries out the other effects.
 */
/** Audit type of a refusal, per human action. */
const REFUSED_AS: Partial<Record<RequestEvent['type'], string>> = {
  submit: A.requestRefused,
  review: A.reviewRefused,
  cancel: A.cancelRefused,
  revoke: A.revokeRefused,
  break_glass_review: A.breakGlassReviewRefused,
};

export function decide(request: AccessRequest | undefined, event: RequestEvent, ctx: DecisionContext): Decision {
  const refusedAs = REFUSED_AS[event.type];
  if (ctx.actor.inactive && refusedAs && 'via' in event) {
    const message =
      ctx.actor.inactive === 'bot' ? 'Bots cannot request or decide access.' : 'This account is deactivated and cannot request or decide access.';
    return refuse('NOT_ALLOWED', message, refusedAs, ctx, event.via, request?.id, { inactive: ctx.actor.inactive });
  }
  if (event.type === 'submit') return submit(event, ctx);
  if (!request) throw new Error(`event ${event.type} needs a request`);
  const rules = lookup(request, ctx);
  switch (event.type) {
    case 'review':
      return review(request, event, ctx, rules);
    case 'stage_timeout':
      return stageTimeout(request, event.stage, ctx, rules);
    case 'reminder_due':
      return reminderDue(request, event.stage, event.n, ctx, rules);
    case 'pending_ttl':
      return pendingTtl(request, ctx, rules);
    case 'cancel':
      return cancel(request, event.via, event.comment, ctx);
    case 'issued':
      return issued(request, event.certificate, ctx);
    case 'issue_failed':
      return issueFailed(request, event.error, ctx);
    case 'expire':
      return expire(request, ctx);
    case 'revoke':
      return revoke(request, event.via, event.comment, ctx);
    case 'break_glass_review':
      return breakGlassReview(request, event.via, event.notes, ctx, rules);
  }
}

interface Rules {
  resource?: Resource;
  workflow?: Workflow;
}

function lookup(request: AccessRequest, ctx: DecisionContext): Rules {
  const resource = ctx.policy.resources.get(request.resource);
  const workflow = ctx.policy.workflows.get(request.workflow);
  return { ...(resource ? { resource } : {}), ...(workflow ? { workflow } : {}) };
}

function audit(type: string, actor: Actor, via: Channel, requestId: string | undefined, data: Record<string, unknown>): Effect {
  const event: AuditInput = { type, actor: { id: actor.id, via }, data };
  if (requestId !== undefined) event.requestId = requestId;
  return { type: 'audit', event };
}

function refuse(
  code: RefusalCode,
  message: string,
  auditType: string,
  ctx: DecisionContext,
  via: Channel,
  requestId: string | undefined,
  data: Record<string, unknown> = {},
): Decision {
  return {
    kind: 'refused',
    code,
    message,
    effects: [audit(auditType, ctx.actor, via, requestId, { code, message, ...data })],
  };
}

function isAdmin(ctx: DecisionContext): boolean {
  return ctx.actorIsAdmin === true || isInPeople(ctx.actor, ctx.policy.admins);
}

// ---------------------------------------------------------------------------------------------
// submit

function submit(ev: Submit, ctx: DecisionContext): Decision {
  const via = ev.via;
  const refused = (code: RefusalCode, message: string) =>
    refuse(code, message, A.requestRefused, ctx, via, undefined, {
      resource: ev.resource,
      requester: ev.requester.id,
      ...(ev.breakGlass ? { breakGlass: true } : {}),
    });

  const resource = ctx.policy.resources.get(ev.resource);
  if (!resource) return refused('UNKNOWN_RESOURCE', `There is no resource called "${ev.resource}".`);
  const workflow = ctx.policy.workflows.get(resource.workflow);
  if (!workflow) return refused('UNKNOWN_RESOURCE', `Resource "${ev.resource}" has no workflow.`);
  if (ev.requester.id !== ctx.actor.id && !ev.adminIssue)
    return refused('NOT_ALLOWED', 'You can only request access for yourself.');

  if (ev.adminIssue) {
    if (!isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only admins can issue certificates outside the workflow.');
  } else if (!ev.breakGlass && !isInPeople(ctx.actor, workflow.requesters)) {
    return refused('NOT_ELIGIBLE', `You are not allowed to request ${resource.name} (workflow ${workflow.name}).`);
  }

  const reason = checkReason(ev.reason, workflow);
  if (!reason.ok) return refused(reason.code, reason.message);
  const ticket = checkTicket(ev.ticket, workflow);
  if (!ticket.ok) return refused(ticket.code, ticket.message);

  const maxMs = ev.breakGlass && workflow.break_glass ? Math.min(resource.duration.max, workflow.break_glass.max_duration) : resource.duration.max;
  const duration = resolveDuration(ev.durationMs, resource.duration.default, maxMs);
  if (!duration.ok) return refused(duration.code, duration.message);

  if (!ev.keyFingerprint)
    return refused('KEY_REQUIRED', 'Register a public key first (`/access key add <public key>`), then request again.');

  if (ev.extensionOf) {
    const parent = ev.extensionOf;
    if (parent.requester.id !== ev.requester.id || parent.resource !== resource.name)
      return refused('EXTENSION_INVALID', 'You can only extend your own access to the same resource.');
    if (parent.state !== 'issued' || parent.expiresAt === undefined || parent.expiresAt <= ctx.now)
      return refused('EXTENSION_INVALID', `Request ${parent.id} is not active access that can be extended.`);
  }

  let breakGlassIncident: { id?: string; service?: string } | undefined;
  if (ev.breakGlass) {
    const check = checkBreakGlass(workflow, ctx);
    if (!check.ok) return refused('BREAK_GLASS_NOT_ALLOWED', check.message);
    breakGlassIncident = check.incident;
  }

  const now = ctx.now;
  const request: AccessRequest = {
    id: ev.id,
    version: 0,
    state: 'pending',
    requester: ev.requester,
    resource: resource.name,
    workflow: workflow.name,
    reason: reason.value,
    ...(ticket.value !== undefined ? { ticket: ticket.value } : {}),
    requestedMs: duration.requestedMs,
    grantedMs: duration.grantedMs,
    keyFingerprint: ev.keyFingerprint,
    createdAt: now,
    updatedAt: now,
    stage: 0,
    stageStartedAt: now,
    escalatedStages: [],
    reviews: [],
    approvers: [],
    ...(ev.extensionOf && ev.extensionOf.expiresAt !== undefined
      ? { extension: { of: ev.extensionOf.id, previousExpiresAt: ev.extensionOf.expiresAt } }
      : {}),
  };

  const created = audit(A.requestCreated, ctx.actor, via, request.id, {
    resource: request.resource,
    workflow: request.workflow,
    requester: { id: request.requester.id, email: request.requester.email },
    reason: request.reason,
    ticket: request.ticket,
    requestedMs: request.requestedMs,
    grantedMs: request.grantedMs,
    keyFingerprint: request.keyFingerprint,
    breakGlass: ev.breakGlass === true,
    adminIssued: ev.adminIssue === true,
    extensionOf: request.extension?.of,
    policy: ctx.policy.hash,
  });

  if (ev.adminIssue) {
    return approve({ ...request, adminIssued: { by: ctx.actor.id } }, ctx, via, [created], { route: 'admin' });
  }

  if (ev.breakGlass && workflow.break_glass) {
    const bg = workflow.break_glass;
    const flagged: AccessRequest = {
      ...request,
      breakGlass: {
        reviewRequired: bg.review_required,
        ...(breakGlassIncident?.id ? { incidentId: breakGlassIncident.id } : {}),
        ...(breakGlassIncident?.service ? { service: breakGlassIncident.service } : {}),
      },
    };
    const used = audit(A.breakGlassUsed, ctx.actor, via, request.id, {
      resource: request.resource,
      incident: breakGlassIncident?.id,
      service: breakGlassIncident?.service,
      reviewRequired: bg.review_required,
    });
    return approve(flagged, ctx, via, [created, used, { type: 'notify_break_glass' }], { route: 'break_glass' });
  }

  const rule = matchAutoApproveRule(workflow, ctx.actor, request.requestedMs);
  if (rule !== undefined) {
    return approve({ ...request, autoApproved: { rule } }, ctx, via, [created], { route: 'auto', rule });
  }

  const pending: AccessRequest = { ...request, approvers: ctx.approversByStage?.[0] ?? [] };
  return {
    kind: 'transition',
    request: pending,
    effects: [
      created,
      { type: 'notify_approvers', stage: 0, reason: 'new' },
      { type: 'notify_requester', notice: 'pending' },
      { type: 'schedule', timer: 'pending_ttl', at: now + workflow.pending_ttl },
      ...stageTimers(workflow, 0, now),
    ],
  };
}

function stageTimers(workflow: Workflow, stage: number, startedAt: number): Effect[] {
  const spec = workflow.stages[stage];
  if (!spec) return [];
  const effects: Effect[] = [];
  if (spec.timeout !== undefined) effects.push({ type: 'schedule', timer: 'stage_timeout', at: startedAt + spec.timeout, stage });
  if (spec.reminder !== undefined) effects.push({ type: 'schedule', timer: 'reminder', at: startedAt + spec.reminder, stage, n: 0 });
  return effects;
}

/** Moves a request to approved: the access window starts now. */
function approve(
  request: AccessRequest,
  ctx: DecisionContext,
  via: Channel,
  leading: Effect[],
  how: { route: 'workflow' | 'auto' | 'break_glass' | 'admin'; rule?: number },
): Decision {
  const resource = ctx.policy.resources.get(request.resource);
  const workflow = ctx.policy.workflows.get(request.workflow);
  const window = grantWindow(request, resource, workflow, ctx.now);
  const approved: AccessRequest = {
    ...request,
    state: 'approved',
    grantedMs: window.grantedMs,
    approvedAt: ctx.now,
    expiresAt: window.expiresAt,
    approvers: [],
    updatedAt: ctx.now,
  };
  return {
    kind: 'transition',
    request: approved,
    effects: [
      ...leading,
      audit(A.requestApproved, ctx.actor, via, request.id, {
        route: how.route,
        ...(how.rule !== undefined ? { autoApproveRule: how.rule } : {}),
        approvedAt: ctx.now,
        expiresAt: window.expiresAt,
        grantedMs: window.grantedMs,
        approvers: [...new Set(request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by))],
        policy: ctx.policy.hash,
      }),
      { type: 'enqueue_issuance' },
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'approved' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// review

function review(
  request: AccessRequest,
  ev: Extract<RequestEvent, { type: 'review' }>,
  ctx: DecisionContext,
  { workflow }: Rules,
): Decision {
  const actor = ctx.actor;
  const refused = (code: RefusalCode, message: string) =>
    refuse(code, message, A.reviewRefused, ctx, ev.via, request.id, { decision: ev.decision, stage: request.stage, state: request.state });

  const mine = request.reviews.filter((r) => r.by === actor.id);
  if (request.state !== 'pending') {
    if (mine.some((r) => r.decision === ev.decision)) return { kind: 'noop', reason: `You already ${pastTense(ev.decision)} this request.` };
    return refused('NOT_PENDING', `This request is already ${describeState(request.state)}.`);
  }
  if (!workflow) return refused('NOT_ALLOWED', `Workflow ${request.workflow} no longer exists; the request cannot be decided.`);
  const stage = workflow.stages[request.stage];
  if (!stage) return refused('NOT_ALLOWED', `Stage ${request.stage + 1} no longer exists in workflow ${workflow.name}.`);

  if (mine.some((r) => r.stage === request.stage))
    return { kind: 'noop', reason: `You already ${pastTense(mine.find((r) => r.stage === request.stage)!.decision)} this request.` };

  if (actor.id === request.requester.id && !workflow.self_approval)
    return refused('SELF_APPROVAL', 'You cannot decide your own request.');

  const resolved = ctx.approversByStage?.[request.stage] ?? request.approvers;
  if (!resolved.includes(actor.id) && !isNamedApprover(actor, stage.approvers))
    return refused(
      'NOT_APPROVER',
      `You are not an approver for stage "${stage.name}" of this request. Approvers: ${describeApprovers(stage.approvers)}.`,
    );

  if (ev.decision === 'approve' && workflow.distinct_approvers && mine.some((r) => r.decision === 'approve'))
    return refused('ALREADY_REVIEWED', 'You approved an earlier stage; this workflow needs a different person for each stage.');

  const comment = ev.comment?.trim();
  if (comment !== undefined && comment.length > 1000) return refused('FIELD_TOO_LONG', 'The comment is longer than 1000 characters.');

  const entry = {
    stage: request.stage,
    by: actor.id,
    decision: ev.decision,
    via: ev.via,
    at: ctx.now,
    ...(comment ? { comment } : {}),
  };
  const reviewed: AccessRequest = { ...request, reviews: [...request.reviews, entry], updatedAt: ctx.now };

  if (ev.decision === 'deny') {
    const denied: AccessRequest = {
      ...reviewed,
      state: 'denied',
      approvers: [],
      closedAt: ctx.now,
      closedBy: actor.id,
      ...(comment ? { closeReason: comment } : {}),
    };
    return {
      kind: 'transition',
      request: denied,
      effects: [
        audit(A.requestDenied, actor, ev.via, request.id, { stage: request.stage, stageName: stage.name, comment }),
        { type: 'update_approval_messages' },
        { type: 'notify_requester', notice: 'denied' },
      ],
    };
  }

  const approvals = new Set(reviewed.reviews.filter((r) => r.stage === request.stage && r.decision === 'approve').map((r) => r.by)).size;
  const reviewAudit = audit(A.reviewApproved, actor, ev.via, request.id, {
    stage: request.stage,
    stageName: stage.name,
    approvals,
    needed: stage.approvals,
    comment,
  });
  if (approvals < stage.approvals) {
    return { kind: 'transition', request: reviewed, effects: [reviewAudit, { type: 'update_approval_messages' }] };
  }
  if (request.stage === workflow.stages.length - 1) {
    return approve(reviewed, ctx, ev.via, [reviewAudit], { route: 'workflow' });
  }
  const next = request.stage + 1;
  const advanced: AccessRequest = {
    ...reviewed,
    stage: next,
    stageStartedAt: ctx.now,
    approvers: ctx.approversByStage?.[next] ?? [],
  };
  return {
    kind: 'transition',
    request: advanced,
    effects: [
      reviewAudit,
      audit(A.stageAdvanced, actor, ev.via, request.id, { from: request.stage, to: next, stageName: workflow.stages[next]?.name }),
      { type: 'update_approval_messages' },
      { type: 'notify_approvers', stage: next, reason: 'new' },
      ...stageTimers(workflow, next, ctx.now),
    ],
  };
}

function pastTense(decision: 'approve' | 'deny'): string {
  return decision === 'approve' ? 'approved' : 'denied';
}

export function describeState(state: AccessRequest['state']): string {
  return state === 'timed_out' ? 'timed out' : state;
}

// ---------------------------------------------------------------------------------------------
// timers

function stageTimeout(request: AccessRequest, stage: number, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending' || request.stage !== stage) return { kind: 'noop', reason: 'stale stage timer' };
  const spec = workflow?.stages[stage];
  if (!workflow || !spec || spec.timeout === undefined) return { kind: 'noop', reason: 'stage has no timeout' };
  if (ctx.now + TIMER_TOLERANCE_MS < request.stageStartedAt + spec.timeout) return { kind: 'noop', reason: 'stage timer not due' };

  const last = workflow.stages.length - 1;
  const onTimeout = spec.on_timeout ?? (stage < last ? 'escalate' : 'expire');
  if (onTimeout === 'escalate' && stage < last) {
    const next = stage + 1;
    const escalated: AccessRequest = {
      ...request,
      stage: next,
      stageStartedAt: ctx.now,
      escalatedStages: [...request.escalatedStages, stage],
      approvers: ctx.approversByStage?.[next] ?? [],
      updatedAt: ctx.now,
    };
    return {
      kind: 'transition',
      request: escalated,
      effects: [
        audit(A.stageEscalated, ctx.actor, 'system', request.id, {
          from: stage,
          to: next,
          fromName: spec.name,
          toName: workflow.stages[next]?.name,
          after: formatDuration(spec.timeout),
        }),
        { type: 'update_approval_messages' },
        { type: 'notify_approvers', stage: next, reason: 'escalated' },
        ...stageTimers(workflow, next, ctx.now),
      ],
    };
  }
  return timeOut(request, ctx, { cause: 'stage_timeout', stage, stageName: spec.name, after: formatDuration(spec.timeout) });
}

function timeOut(request: AccessRequest, ctx: DecisionContext, data: Record<string, unknown>): Decision {
  return {
    kind: 'transition',
    request: { ...request, state: 'timed_out', approvers: [], closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      audit(A.requestTimedOut, ctx.actor, 'system', request.id, data),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'timed_out' },
    ],
  };
}

function reminderDue(request: AccessRequest, stage: number, n: number, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending' || request.stage !== stage) return { kind: 'noop', reason: 'stale reminder' };
  const spec = workflow?.stages[stage];
  if (!workflow || !spec || spec.reminder === undefined) return { kind: 'noop', reason: 'stage has no reminder' };
  const effects: Effect[] = [
    audit(A.reminderSent, ctx.actor, 'system', request.id, { stage, stageName: spec.name, n: n + 1, approvers: request.approvers }),
    { type: 'notify_approvers', stage, reason: 'reminder' },
  ];
  const nextAt = ctx.now + spec.reminder * 2 ** (n + 1);
  const stageEnds = spec.timeout !== undefined ? request.stageStartedAt + spec.timeout : Infinity;
  const requestEnds = request.createdAt + workflow.pending_ttl;
  if (n + 1 < MAX_REMINDERS && nextAt < stageEnds && nextAt < requestEnds)
    effects.push({ type: 'schedule', timer: 'reminder', at: nextAt, stage, n: n + 1 });
  return { kind: 'transition', request: { ...request, updatedAt: ctx.now }, effects };
}

function pendingTtl(request: AccessRequest, ctx: DecisionContext, { workflow }: Rules): Decision {
  if (request.state !== 'pending') return { kind: 'noop', reason: 'not pending' };
  const ttl = workflow?.pending_ttl;
  if (ttl !== undefined && ctx.now + TIMER_TOLERANCE_MS < request.createdAt + ttl) return { kind: 'noop', reason: 'pending TTL not due' };
  return timeOut(request, ctx, { cause: 'pending_ttl', after: ttl !== undefined ? formatDuration(ttl) : undefined });
}

// ---------------------------------------------------------------------------------------------
// requester and admin actions

function cancel(request: AccessRequest, via: Channel, comment: string | undefined, ctx: DecisionContext): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.cancelRefused, ctx, via, request.id, { state: request.state });
  if (ctx.actor.id !== request.requester.id && !isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only the requester or an admin can cancel a request.');
  if (request.state !== 'pending')
    return refused(
      'NOT_PENDING',
      request.state === 'approved' || request.state === 'issued'
        ? 'This request is already approved; revoke it instead.'
        : `This request is already ${describeState(request.state)}.`,
    );
  return {
    kind: 'transition',
    request: {
      ...request,
      state: 'cancelled',
      approvers: [],
      closedAt: ctx.now,
      closedBy: ctx.actor.id,
      ...(comment ? { closeReason: comment.slice(0, 1000) } : {}),
      updatedAt: ctx.now,
    },
    effects: [
      audit(A.requestCancelled, ctx.actor, via, request.id, { comment }),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'cancelled' },
    ],
  };
}

function revoke(request: AccessRequest, via: Channel, comment: string | undefined, ctx: DecisionContext): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.revokeRefused, ctx, via, request.id, { state: request.state });
  if (ctx.actor.id !== request.requester.id && !isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only the requester or an admin can revoke access.');
  if (request.state !== 'approved' && request.state !== 'issued')
    return refused('NOT_ACTIVE', `This request is ${describeState(request.state)}; there is no active access to revoke.`);
  const effects: Effect[] = [
    audit(A.requestRevoked, ctx.actor, via, request.id, {
      comment,
      serial: request.certificate?.serial,
      kind: request.certificate?.kind,
      expiresAt: request.expiresAt,
    }),
  ];
  if (request.certificate) effects.push({ type: 'revoke_certificate' });
  effects.push({ type: 'update_approval_messages' }, { type: 'notify_requester', notice: 'revoked' });
  return {
    kind: 'transition',
    request: {
      ...request,
      state: 'revoked',
      closedAt: ctx.now,
      closedBy: ctx.actor.id,
      ...(comment ? { closeReason: comment.slice(0, 1000) } : {}),
      updatedAt: ctx.now,
    },
    effects,
  };
}

function breakGlassReview(request: AccessRequest, via: Channel, notes: string, ctx: DecisionContext, { workflow }: Rules): Decision {
  const refused = (code: RefusalCode, message: string) => refuse(code, message, A.breakGlassReviewRefused, ctx, via, request.id);
  const bg = request.breakGlass;
  if (!bg || !bg.reviewRequired || bg.review) return refused('NO_REVIEW_DUE', 'This request has no open post-incident review.');
  if (ctx.actor.id === request.requester.id) return refused('SELF_APPROVAL', 'You cannot review your own break-glass access.');
  const reviewers = workflow?.break_glass?.reviewers;
  if (!isAdmin(ctx) && !(reviewers && isNamedApprover(ctx.actor, reviewers)))
    return refused('NOT_ALLOWED', 'Only break-glass reviewers or admins can close a post-incident review.');
  const text = notes.trim();
  if (!text) return refused('COMMENT_REQUIRED', 'Write what was done with the access and why it was needed.');
  if (text.length > 4000) return refused('FIELD_TOO_LONG', 'Review notes are longer than 4000 characters.');
  return {
    kind: 'transition',
    request: { ...request, breakGlass: { ...bg, review: { by: ctx.actor.id, at: ctx.now, notes: text } }, updatedAt: ctx.now },
    effects: [audit(A.breakGlassReviewed, ctx.actor, via, request.id, { notes: text, incident: bg.incidentId })],
  };
}

// ---------------------------------------------------------------------------------------------
// certificate lifecycle (from the worker)

function issued(request: AccessRequest, certificate: NonNullable<AccessRequest['certificate']>, ctx: DecisionContext): Decision {
  if (request.state === 'issued' && request.certificate) return { kind: 'noop', reason: 'already issued' };
  if (request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}; certificate discarded` };
  const effects: Effect[] = [
    audit(A.certIssued, ctx.actor, 'system', request.id, {
      kind: certificate.kind,
      serial: certificate.serial,
      keyFingerprint: certificate.keyFingerprint,
      principals: certificate.principals,
      validAfter: certificate.validAfter,
      validBefore: certificate.validBefore,
      adminIssued: request.adminIssued !== undefined,
    }),
    { type: 'notify_requester', notice: 'issued' },
  ];
  // No timer effect: the issuance job itself stays with the grant (BullMQ delayed steps: warn,
  // then expire); the reconciler's sweep of the expiry index is the backstop.
  return { kind: 'transition', request: { ...request, state: 'issued', certificate, updatedAt: ctx.now }, effects };
}

function issueFailed(request: AccessRequest, error: string, ctx: DecisionContext): Decision {
  if (request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}` };
  return {
    kind: 'transition',
    request: { ...request, state: 'failed', failure: error.slice(0, 1000), closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      audit(A.requestFailed, ctx.actor, 'system', request.id, { error: error.slice(0, 1000) }),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'failed' },
    ],
  };
}

function expire(request: AccessRequest, ctx: DecisionContext): Decision {
  if (request.state !== 'issued' && request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}` };
  const end = request.certificate?.validBefore ?? request.expiresAt;
  if (end === undefined || ctx.now + TIMER_TOLERANCE_MS < end) return { kind: 'noop', reason: 'not expired yet' };
  return {
    kind: 'transition',
    request: { ...request, state: 'expired', closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      audit(A.requestExpired, ctx.actor, 'system', request.id, { serial: request.certificate?.serial, expiresAt: end }),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'expired' },
    ],
  };
}
