import type { Workflow } from '../../config/policy';
import { approve } from '../approval';
import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { certificateSubject } from '../certificate-subject';
import { audit, refuse, type Rules } from '../decision-kit';
import { isInPeople } from '../people';
import { isActiveGrant } from '../request-states';
import type { AccessRequest, Decision, DecisionContext, IncidentFact, RefusalCode, RequestEvent } from '../types';
import { breakGlassEffects } from './break-glass-review';
import { revoked } from './requester-actions';

type IncidentGrant = Extract<RequestEvent, { type: 'incident_grant' }>;

/** The services whose incidents grant access in this workflow (`break_glass.on_incident`), or none. */
export function incidentGrantServices(workflow: Workflow | undefined): string[] {
  const bg = workflow?.break_glass;
  if (!bg?.on_incident) return [];
  return bg.on_incident.services ?? bg.pagerduty_services;
}

export function isOpenIncident(incident: Pick<IncidentFact, 'status'>): boolean {
  return incident.status === 'triggered' || incident.status === 'acknowledged';
}

/**
 * Access granted by an incident, with no request: the assignee of an open incident on a service the
 * workflow names under `break_glass.on_incident` gets the resource at once, flagged break-glass,
 * for the break-glass maximum. The caller re-read the incident from PagerDuty and mapped the
 * assignee to a Slack user by a confirmed email; the person must still be one who may break glass.
 */
export function incidentGrant(ev: IncidentGrant, ctx: DecisionContext): Decision {
  const via = 'pagerduty' as const;
  const incident = ev.incident;
  const refused = (code: RefusalCode, message: string) =>
    refuse(code, message, A.incidentGrantRefused, ctx, via, undefined, {
      resource: ev.resource,
      requester: ev.requester.id,
      incident: incident.id,
      incidentStatus: incident.status,
      service: incident.service,
      assignee: ev.assignee,
    });

  const resource = ctx.policy.resources.get(ev.resource);
  const workflow = resource ? ctx.policy.workflows.get(resource.workflow) : undefined;
  if (!resource || !workflow) return refused('UNKNOWN_RESOURCE', `There is no resource called "${ev.resource}".`);
  const bg = workflow.break_glass;
  if (!bg || !incidentGrantServices(workflow).includes(incident.service))
    return refused('BREAK_GLASS_NOT_ALLOWED', `Workflow ${workflow.name} grants no access for incidents on ${incident.service}.`);
  if (!isOpenIncident(incident)) return refused('BREAK_GLASS_NOT_ALLOWED', `Incident ${incident.id} is ${incident.status}.`);
  const person = ev.requesterActor;
  if (person.id !== ev.requester.id) return refused('NOT_ALLOWED', 'The assignee and the person granted differ.');
  if (person.inactive) return refused('NOT_ALLOWED', `The Slack account of ${person.id} is ${person.inactive === 'bot' ? 'a bot' : 'deactivated'}.`);
  if (ev.requester.emailVerified !== true)
    return refused('IDENTITY_UNRESOLVED', 'The Slack email of this assignee is not confirmed, so it cannot stand for their PagerDuty user.');
  if (!isInPeople(person, bg.requesters ?? workflow.requesters))
    return refused('NOT_ELIGIBLE', `${person.id} is assigned to incident ${incident.id} but may not break glass for ${resource.name} (workflow ${workflow.name}).`);
  if (ctx.openForResource)
    return refused('ALREADY_OPEN', `${person.id} already holds break-glass access to ${resource.name} (${ctx.openForResource.id}).`);
  if (!ev.keyFingerprint) return refused('KEY_REQUIRED', `${person.id} has no registered key of the kind ${resource.name} needs.`);
  const subject = certificateSubject(resource, ev.requester, ctx.policy);
  if (!subject.ok) return refused(subject.code, subject.message);

  const now = ctx.now;
  const grantedMs = Math.min(resource.duration.max, bg.max_duration);
  const label = `PagerDuty incident ${incident.number !== undefined ? `#${incident.number}` : incident.id}`;
  const reason = `${label}${incident.title ? `: ${incident.title}` : ''}`.slice(0, 1000);
  const request: AccessRequest = {
    id: ev.id,
    version: 0,
    state: 'pending',
    requester: ev.requester,
    resource: resource.name,
    workflow: workflow.name,
    reason,
    requestedMs: grantedMs,
    grantedMs,
    keyFingerprint: ev.keyFingerprint,
    subject: subject.subject,
    createdAt: now,
    updatedAt: now,
    stage: 0,
    stageStartedAt: now,
    escalatedStages: [],
    reviews: [],
    approvers: [],
    breakGlass: {
      reviewRequired: bg.review_required,
      incidentId: incident.id,
      service: incident.service,
      incidentStatus: incident.status,
      onIncident: { assignee: ev.assignee },
    },
  };
  const created = audit(A.requestCreated, ctx.actor, via, request.id, {
    resource: request.resource,
    workflow: request.workflow,
    requester: { id: request.requester.id, email: request.requester.email },
    reason: request.reason,
    requestedMs: grantedMs,
    grantedMs,
    keyFingerprint: request.keyFingerprint,
    subject: request.subject,
    breakGlass: true,
    onIncident: true,
    policy: ctx.policy.hash,
  });
  // Everything the grant rests on, as PagerDuty said it when it was re-read.
  const granted = audit(A.incidentGranted, ctx.actor, via, request.id, {
    resource: request.resource,
    requester: request.requester.id,
    incident: incident.id,
    incidentNumber: incident.number,
    incidentStatus: incident.status,
    incidentTitle: incident.title,
    service: incident.service,
    assignee: ev.assignee,
    assignees: incident.assignees?.map((a) => a.id),
    reviewRequired: bg.review_required,
  });
  return approve(request, ctx, via, [created, granted, ...breakGlassEffects(request, workflow, now)], { route: 'incident' });
}

/** Whether a break-glass grant ends when the incident it rests on resolves: granted by it, or resting on it where an incident is required. */
export function endsWithIncident(request: AccessRequest, workflow: Workflow | undefined): boolean {
  const bg = request.breakGlass;
  if (!bg?.incidentId) return false;
  return bg.onIncident !== undefined || workflow?.break_glass?.require_active_incident === true || workflow?.break_glass?.on_incident !== undefined;
}

/**
 * The incident a break-glass grant rests on resolved (as re-read from PagerDuty): the grant is
 * revoked at once, or with `on_incident.grace` it is shortened to end that long from now (its
 * certificate is then revoked when it ends, since it was signed for longer). Grants made by the
 * incident, and grants taken on call where the workflow requires an incident, end this way.
 */
export function incidentResolved(request: AccessRequest, incident: IncidentFact, ctx: DecisionContext, { workflow }: Rules): Decision {
  const bg = request.breakGlass;
  if (!bg || bg.incidentId !== incident.id || !endsWithIncident(request, workflow)) return { kind: 'noop', reason: 'not a grant resting on this incident' };
  if (!isActiveGrant(request.state)) return { kind: 'noop', reason: `the grant is ${request.state}` };
  if (incident.status !== 'resolved') return unassigned(request, incident, ctx);
  if (bg.incidentResolvedAt !== undefined) return { kind: 'noop', reason: 'already shortened for this resolution' };
  const data = { incident: incident.id, incidentNumber: incident.number, service: incident.service, onIncident: bg.onIncident !== undefined };
  const grace = workflow?.break_glass?.on_incident?.grace;
  const until = grace !== undefined ? ctx.now + grace : undefined;
  if (until !== undefined && request.expiresAt !== undefined && until < request.expiresAt) {
    return {
      kind: 'transition',
      request: { ...request, expiresAt: until, breakGlass: { ...bg, incidentResolvedAt: ctx.now }, updatedAt: ctx.now },
      effects: [
        audit(A.incidentResolved, ctx.actor, 'pagerduty', request.id, { ...data, action: 'shortened', until, graceMs: grace }),
        { type: 'schedule', timer: 'expiry', at: until },
        { type: 'post_incident_note', event: 'ended' },
        { type: 'update_approval_messages' },
      ],
    };
  }
  if (until !== undefined) return { kind: 'noop', reason: 'the grant ends within the grace anyway' };
  const label = incident.number !== undefined ? `#${incident.number}` : incident.id;
  const closed = revoked(request, ctx, 'pagerduty', `PagerDuty incident ${label} resolved`, data);
  if (closed.kind !== 'transition') return closed;
  return {
    ...closed,
    effects: [audit(A.incidentResolved, ctx.actor, 'pagerduty', request.id, { ...data, action: 'revoked' }), ...closed.effects, { type: 'post_incident_note', event: 'ended' }],
  };
}

/**
 * A grant the incident made follows its assignment: when the incident, re-read from PagerDuty, no
 * longer assigns the person (reassigned, or escalated past them), the grant is revoked, as it would
 * have been had the incident resolved. A break-glass the person asked for while on call is theirs
 * until the incident resolves.
 */
function unassigned(request: AccessRequest, incident: IncidentFact, ctx: DecisionContext): Decision {
  const assignee = request.breakGlass?.onIncident?.assignee;
  if (assignee === undefined || incident.assignees === undefined || incident.assignees.some((a) => a.id === assignee))
    return { kind: 'noop', reason: `incident ${incident.id} is ${incident.status} and still assigns the requester` };
  const label = incident.number !== undefined ? `#${incident.number}` : incident.id;
  const data = { incident: incident.id, incidentNumber: incident.number, service: incident.service, onIncident: true, assignee };
  const closed = revoked(request, ctx, 'pagerduty', `No longer assigned to PagerDuty incident ${label}`, data);
  if (closed.kind !== 'transition') return closed;
  return {
    ...closed,
    effects: [audit(A.incidentUnassigned, ctx.actor, 'pagerduty', request.id, { ...data, action: 'revoked' }), ...closed.effects, { type: 'post_incident_note', event: 'ended' }],
  };
}
