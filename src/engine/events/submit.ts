import { formatDuration } from '../../config/duration';
import { approve, approverPool, stageTimers } from '../approval';
import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { certificateSubject } from '../certificate-subject';
import { audit, describeState, isAdmin, refuse } from '../decision-kit';
import { isInPeople } from '../people';
import { checkBreakGlass, checkReason, checkTicket, matchAutoApproveRule, resolveDuration, type BreakGlassBasis } from '../policy-rules';
import { breakGlassEffects } from './break-glass-review';
import type { AccessRequest, Decision, DecisionContext, RefusalCode, RequestEvent } from '../types';

type Submit = Extract<RequestEvent, { type: 'submit' }>;

/** A new request: checked against the workflow, then pending, auto-approved, break-glass or admin-issued. */
export function submit(ev: Submit, ctx: DecisionContext): Decision {
  const via = ev.via;
  const refused = (code: RefusalCode, message: string, data: Record<string, unknown> = {}) =>
    refuse(code, message, A.requestRefused, ctx, via, undefined, {
      resource: ev.resource,
      requester: ev.requester.id,
      ...(ev.breakGlass ? { breakGlass: true } : {}),
      ...data,
    });

  const resource = ctx.policy.resources.get(ev.resource);
  if (!resource) return refused('UNKNOWN_RESOURCE', `There is no resource called "${ev.resource}".`);
  const workflow = ctx.policy.workflows.get(resource.workflow);
  if (!workflow) return refused('UNKNOWN_RESOURCE', `Resource "${ev.resource}" has no workflow.`);
  if (ev.requester.id !== ctx.actor.id && !ev.adminIssue) return refused('NOT_ALLOWED', 'You can only request access for yourself.');

  if (ev.adminIssue) {
    if (!isAdmin(ctx)) return refused('NOT_ALLOWED', 'Only admins can issue certificates outside the workflow.');
  } else if (ev.breakGlass) {
    const normally = `/access ${resource.name} <duration>${workflow.ticket?.required ? ' <ticket>' : ''} <reason>`;
    if (!workflow.break_glass)
      return refused('BREAK_GLASS_NOT_ALLOWED', `${resource.name} has no break-glass; request it normally with \`${normally}\`.`);
    // Being on call is not enough: break-glass is for the people who may request the resource at
    // all, unless the workflow names its break-glass requesters explicitly.
    const eligible = workflow.break_glass.requesters ?? workflow.requesters;
    if (!isInPeople(ctx.actor, eligible))
      return refused('NOT_ELIGIBLE', `You are not allowed to break glass for ${resource.name} (workflow ${workflow.name}).`);
    if (ctx.pagerDutyConnected === false)
      return refused(
        'BREAK_GLASS_NOT_ALLOWED',
        `Break-glass needs PagerDuty, which is not connected: nobody can be confirmed on call. Request ${resource.name} normally with \`${normally}\`, or ask an access-bot admin.`,
      );
  } else if (!isInPeople(ctx.actor, workflow.requesters)) {
    return refused('NOT_ELIGIBLE', `You are not allowed to request ${resource.name} (workflow ${workflow.name}).`);
  }

  const open = ev.adminIssue ? undefined : ev.extensionOf ? ctx.openExtension : ctx.openForResource;
  if (open) return refused('ALREADY_OPEN', alreadyOpenMessage(open, resource.name, ev.extensionOf?.id, ctx.now), { open: open.id });

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
    // The maximum counts from approval: time still left on the grant counts toward it.
    const left = parent.expiresAt - ctx.now;
    if (left + duration.requestedMs > resource.duration.max) {
      const room = resource.duration.max - left;
      return refused(
        'DURATION_TOO_LONG',
        `Extending by ${formatDuration(duration.requestedMs)} would give you ${formatDuration(left + duration.requestedMs)} of access from now; ` +
          `${resource.name} allows at most ${formatDuration(resource.duration.max)}. ` +
          (room >= 60_000 ? `Extend by at most ${formatDuration(Math.floor(room / 60_000) * 60_000)}.` : 'Request it again when this grant ends.'),
      );
    }
  }

  const subject = certificateSubject(resource, ev.requester, ctx.policy);
  if (!subject.ok) return refused(subject.code, subject.message);

  let basis: BreakGlassBasis | undefined;
  if (ev.breakGlass) {
    const check = checkBreakGlass(workflow, ctx, resource.name);
    if (!check.ok)
      return refused('BREAK_GLASS_NOT_ALLOWED', check.message, {
        ...(ctx.oncallUnavailable !== undefined ? { pagerduty: ctx.oncallUnavailable } : {}),
        ...(ctx.oncallEntries ? { oncall: ctx.oncallEntries } : {}),
        ...(ctx.activeIncidents ? { incidents: ctx.activeIncidents.map((i) => ({ id: i.id, service: i.service, status: i.status })) } : {}),
      });
    basis = check;
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
    subject: subject.subject,
    ...(ctx.recentGrants !== undefined ? { recentGrants: ctx.recentGrants } : {}),
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
    subject: request.subject,
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
    const incident = basis?.incident;
    const flagged: AccessRequest = {
      ...request,
      breakGlass: {
        reviewRequired: bg.review_required,
        ...(incident?.id ? { incidentId: incident.id } : {}),
        ...(incident?.service ? { service: incident.service } : {}),
        ...(incident?.status ? { incidentStatus: incident.status } : {}),
        ...(basis?.oncall ? { oncall: basis.oncall } : {}),
      },
    };
    // Everything the grant rested on, as PagerDuty said it at this moment.
    const used = audit(A.breakGlassUsed, ctx.actor, via, request.id, {
      resource: request.resource,
      incident: incident?.id,
      incidentStatus: incident?.status,
      incidentNumber: incident?.number,
      service: incident?.service,
      oncall: basis?.oncall,
      oncallLevels: bg.oncall_levels,
      reviewRequired: bg.review_required,
    });
    return approve(flagged, ctx, via, [created, used, ...breakGlassEffects(flagged, workflow, ctx.now)], { route: 'break_glass' });
  }

  const rule = matchAutoApproveRule(workflow, ctx.actor, request.requestedMs);
  if (rule !== undefined) {
    return approve({ ...request, autoApproved: { rule } }, ctx, via, [created], { route: 'auto', rule });
  }

  const pending: AccessRequest = { ...request, approvers: approverPool(request, workflow, ctx.approversByStage?.[0]) };
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

/** Points at the request already open instead of making a second one, and says what to do instead. */
function alreadyOpenMessage(open: AccessRequest, resource: string, extending: string | undefined, now: number): string {
  const left = open.expiresAt !== undefined ? formatDuration(Math.max(0, Math.ceil((open.expiresAt - now) / 60_000) * 60_000)) : undefined;
  if (extending !== undefined) {
    return open.state === 'pending'
      ? `Grant ${extending} already has a pending extension (${open.id}). Wait for its decision, or cancel it with \`/access cancel ${open.id}\`.`
      : `Grant ${extending} was already extended by ${open.id}${left ? ` (access for another ${left})` : ''}. To go further, extend that one: \`/access extend ${open.id} <duration>\`.`;
  }
  if (open.state === 'pending')
    return `You already have a pending request for ${resource} (${open.id}). Wait for its decision, or cancel it with \`/access cancel ${open.id}\` and ask again.`;
  const what = open.breakGlass ? 'break-glass access' : 'access';
  return `You already have ${what} to ${resource} (${open.id}, ${describeState(open.state)}${left ? `, for another ${left}` : ''}). To stay longer, extend it: \`/access extend ${open.id} <duration>\`.`;
}
