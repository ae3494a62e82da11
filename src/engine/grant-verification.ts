import type { Policy, Workflow } from '../config/policy';
import { certificateSubject, describeSubject, sameSubject } from './certificate-subject';
import { isInPeople, isNamedApprover } from './people';
import { checkBreakGlass } from './policy-rules';
import { isActiveGrant } from './request-states';
import { incidentGrantServices, isOpenIncident } from './events/incident-grant';
import type { AccessRequest, Actor, CertificateSubject, IncidentFact, OnCallFact, Person } from './types';

/** Clocks of bot and worker replicas differ a little; more than this is a forged or broken record. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** What the worker found out for itself, from its own policy, directory, PagerDuty and CA. */
export interface GrantFacts {
  policy: Policy;
  now: number;
  /** The requester as the worker's directory sees them (groups, email, whether it is confirmed). */
  requester: Actor;
  /** Each person whose approval the record lists, as the worker's directory sees them. */
  reviewers: ReadonlyMap<string, Actor>;
  /** Per stage: the approver set resolved by the worker (users, group members, current on-call). */
  resolvedApprovers: readonly (readonly string[])[];
  /** The grant an extension extends, as stored. */
  parent?: AccessRequest;
  /** The admin attestation checks out against the CA directory. */
  adminAttested: boolean;
  /** From PagerDuty now; absent when the worker has no PagerDuty. `entries` carry the escalation levels. */
  oncall?: { services: string[]; entries?: OnCallFact[]; activeIncidents: Array<{ id: string; service: string } & Partial<IncidentFact>> };
  /**
   * For a grant made by an incident: the incident re-read from PagerDuty now (with its assignees'
   * emails); `null` when PagerDuty says it does not exist, absent when the worker has no PagerDuty.
   */
  incident?: IncidentFact | null;
}

export type GrantCheck = { ok: true; subject: CertificateSubject } | { ok: false; reason: string };

/**
 * The worker's own check, before it signs, that an approved record is one the policy allows: the
 * reviews it lists satisfy every stage (or the stage escalated by timeout), auto-approval matches a
 * rule, break-glass rests on a real on-call, admin issuance carries an attestation, the window is
 * within the maximum, and the principals are the ones the identity rules give this person. A record
 * edited by hand in Redis fails here and mints nothing. Pure: the caller gathers the facts.
 */
export function verifyGrant(request: AccessRequest, facts: GrantFacts): GrantCheck {
  const no = (reason: string): GrantCheck => ({ ok: false, reason });
  const { policy } = facts;
  if (request.state !== 'approved') return no(`the request is ${request.state}, not approved`);
  const resource = policy.resources.get(request.resource);
  if (!resource) return no(`resource ${request.resource} is not in the worker's workflow files`);
  const workflow = policy.workflows.get(resource.workflow);
  if (!workflow || workflow.name !== request.workflow) return no(`resource ${request.resource} is not governed by workflow ${request.workflow}`);
  if (request.approvedAt === undefined || request.expiresAt === undefined) return no('the record has no approved window');
  if (request.approvedAt > facts.now + CLOCK_SKEW_MS) return no('the approval is dated in the future');
  if (request.createdAt > request.approvedAt) return no('the approval predates the request');

  const maxMs = request.breakGlass && workflow.break_glass ? Math.min(resource.duration.max, workflow.break_glass.max_duration) : resource.duration.max;
  if (request.expiresAt - request.approvedAt > maxMs + 1000) return no(`the window is longer than the maximum of ${maxMs} ms from approval`);
  const start = request.startsAt ?? request.approvedAt;
  if (start < request.approvedAt - 1000 || request.expiresAt <= start) return no('the window does not start at approval');

  if (request.extension) {
    const parent = facts.parent;
    if (!parent || parent.id !== request.extension.of) return no(`the grant it extends (${request.extension.of}) does not exist`);
    if (parent.requester.id !== request.requester.id || parent.resource !== request.resource) return no('it extends someone else\'s grant or another resource');
    if (parent.expiresAt !== request.extension.previousExpiresAt || start !== Math.max(request.approvedAt, parent.expiresAt))
      return no('its window does not follow on from the grant it extends');
    const ranOut = parent.state === 'expired' && (parent.closedAt ?? 0) >= parent.expiresAt - 5_000;
    if (!isActiveGrant(parent.state) && !ranOut) return no(`the grant it extends is ${parent.state}`);
  }

  // Who the certificate names: for admin issuance the attested person, otherwise the directory's.
  const person: Person = request.adminIssued ? request.requester : directoryPerson(facts.requester, request.requester.id);
  const subject = certificateSubject(resource, person, policy);
  if (!subject.ok) return no(subject.message);
  if (request.subject && !sameSubject(request.subject, subject.subject))
    return no(`approvers were shown ${describeSubject(request.subject)}, but the identity rules give ${describeSubject(subject.subject)}`);

  if (request.adminIssued) {
    return facts.adminAttested ? subject : no('it is marked admin-issued without a valid attestation from the CA directory');
  }
  if (facts.requester.inactive) return no(`the requester's account is ${facts.requester.inactive === 'bot' ? 'a bot' : 'deactivated'}`);

  if (request.breakGlass) {
    const bg = workflow.break_glass;
    if (!bg) return no(`workflow ${workflow.name} has no break-glass`);
    if (!isInPeople(facts.requester, bg.requesters ?? workflow.requesters)) return no('the requester may not break glass for this workflow');
    if (request.breakGlass.onIncident) return verifyIncidentGrant(request, facts, workflow) ?? subject;
    if (!facts.oncall) return no('break-glass needs PagerDuty, and the worker has no PagerDuty to confirm the on-call');
    const check = checkBreakGlass(workflow, {
      oncallServices: facts.oncall.services,
      ...(facts.oncall.entries ? { oncallEntries: facts.oncall.entries } : {}),
      activeIncidents: facts.oncall.activeIncidents,
      actor: facts.requester,
    });
    return check.ok ? subject : no(`PagerDuty does not confirm it: ${check.message}`);
  }

  if (!isInPeople(facts.requester, workflow.requesters)) return no(`the requester is not among workflow ${workflow.name}'s requesters`);

  if (request.autoApproved) {
    const rule = workflow.auto_approve[request.autoApproved.rule];
    if (!rule) return no(`workflow ${workflow.name} has no auto-approve rule ${request.autoApproved.rule + 1}`);
    if (request.requestedMs > rule.max_duration || !isInPeople(facts.requester, rule.requesters))
      return no(`auto-approve rule ${request.autoApproved.rule + 1} does not cover this request`);
    return subject;
  }

  if (request.reviews.some((r) => r.decision === 'deny')) return no('a review denied it');
  const approvedStages = new Map<string, number>();
  for (const [i, stage] of workflow.stages.entries()) {
    if (request.escalatedStages.includes(i)) {
      const escalates = (stage.on_timeout ?? (i < workflow.stages.length - 1 ? 'escalate' : 'expire')) === 'escalate';
      if (stage.timeout === undefined || !escalates || i === workflow.stages.length - 1) return no(`stage ${i + 1} cannot be skipped by timeout`);
      continue;
    }
    const approvers = new Set<string>();
    for (const r of request.reviews) {
      if (r.stage !== i || r.decision !== 'approve') continue;
      if (r.at < request.createdAt - CLOCK_SKEW_MS || r.at > request.approvedAt + CLOCK_SKEW_MS) return no(`a review of stage ${i + 1} is dated outside the request's life`);
      if (r.by === request.requester.id && !workflow.self_approval) return no('the requester approved their own request');
      const reviewer = facts.reviewers.get(r.by);
      const eligible = facts.resolvedApprovers[i]?.includes(r.by) || (reviewer !== undefined && !reviewer.inactive && isNamedApprover(reviewer, stage.approvers));
      if (!eligible) return no(`${r.by} is not an approver of stage ${i + 1} ("${stage.name}")`);
      if (workflow.distinct_approvers && approvedStages.has(r.by) && approvedStages.get(r.by) !== i) return no(`${r.by} approved two stages`);
      approvedStages.set(r.by, i);
      approvers.add(r.by);
    }
    if (approvers.size < stage.approvals) return no(`stage ${i + 1} ("${stage.name}") has ${approvers.size} of ${stage.approvals} approvals`);
  }
  return subject;
}

/**
 * A grant made by an incident stands only on the incident as PagerDuty tells the worker now: it
 * exists, is triggered or acknowledged, is on a service the workflow's `on_incident` names, and has
 * the requester (by their Slack-confirmed email) among its assignees. Returns the refusal, if any.
 */
function verifyIncidentGrant(request: AccessRequest, facts: GrantFacts, workflow: Workflow): GrantCheck | undefined {
  const no = (reason: string): GrantCheck => ({ ok: false, reason });
  const claimed = request.breakGlass?.incidentId;
  if (!workflow.break_glass?.on_incident) return no(`workflow ${workflow.name} grants no access for incidents`);
  if (!claimed) return no('it claims an incident grant without an incident');
  if (facts.incident === undefined) return no('an incident grant needs PagerDuty, and the worker has no PagerDuty to re-read the incident');
  const incident = facts.incident;
  if (incident === null || incident.id !== claimed) return no(`PagerDuty has no incident ${claimed}`);
  if (!isOpenIncident(incident)) return no(`PagerDuty says incident ${claimed} is ${incident.status}`);
  if (!incidentGrantServices(workflow).includes(incident.service) || request.breakGlass?.service !== incident.service)
    return no(`incident ${claimed} is on service ${incident.service}, which workflow ${workflow.name} does not grant for`);
  const email = facts.requester.emailVerified === true ? facts.requester.email?.toLowerCase() : undefined;
  if (!email) return no('the requester has no confirmed Slack email to match a PagerDuty assignee');
  const assignee = (incident.assignees ?? []).find((a) => a.email?.toLowerCase() === email);
  if (!assignee) return no(`the requester is not assigned to incident ${claimed}`);
  return undefined;
}

function directoryPerson(actor: Actor, id: string): Person {
  return {
    id,
    ...(actor.email ? { email: actor.email } : {}),
    ...(actor.emailVerified ? { emailVerified: true } : {}),
    ...(actor.name ? { name: actor.name } : {}),
  };
}
