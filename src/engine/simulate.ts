import { formatDuration } from '../config/duration';
import type { Policy, Workflow } from '../config/policy';
import { describeSubject } from './certificate-subject';
import { describeApprovers, isInPeople, isNamedApprover } from './people';
import { decide } from './request-machine';
import type { Actor } from './types';

export interface SimulationInput {
  requester: Actor;
  resource: string;
  durationMs?: number;
  reason?: string;
  ticket?: string;
  /** Treat the requester as on call for the workflow's break-glass services. */
  oncall?: boolean;
  /** Treat those services as having an active incident. */
  incident?: boolean;
  /** Whether PagerDuty is connected where this runs (false: break-glass cannot happen now). Default true. */
  pagerDutyConnected?: boolean;
  now: number;
}

export interface SimulatedStage {
  index: number;
  name: string;
  approvals: number;
  approvers: string;
  reminder?: string;
  timeout?: string;
  onTimeout?: 'escalate' | 'expire';
  requesterIsApprover: boolean;
}

export interface SimulationResult {
  resource: string;
  workflow?: string;
  certificate?: 'ssh' | 'x509';
  /** The exact principals (SSH) or subject (X.509) the certificate would carry. */
  subject?: string;
  allowed: boolean;
  outcome: 'needs_approval' | 'auto_approved' | 'break_glass' | 'refused';
  refusal?: { code: string; message: string };
  autoApproveRule?: number;
  /** `onceConnected`: with PagerDuty off, what break-glass would do once it is connected. */
  breakGlass?: { available: boolean; reason?: string; onceConnected?: { available: boolean; reason?: string } };
  duration?: { requested: string; granted: string; default: string; max: string };
  reason?: { required: boolean; pattern?: string; hint?: string };
  ticket?: { required: boolean; pattern?: string; hint?: string };
  stages: SimulatedStage[];
  approvalRoute: string[];
  selfApproval: boolean;
}

/** Without the requester's reason and ticket, those checks are reported as requirements, not applied. */
function withoutTextChecks(policy: Policy, workflow: Workflow): Policy {
  const relaxed: Workflow = { ...workflow, reason: { required: false }, ticket: undefined };
  const workflows = new Map(policy.workflows);
  workflows.set(workflow.name, relaxed);
  return { ...policy, workflows };
}

function route(workflow: Workflow): string[] {
  const out: string[] = [];
  if (workflow.approval.slack_channel) out.push(`Slack channel ${workflow.approval.slack_channel}`);
  if (workflow.approval.slack_dm) out.push('Slack DMs to the approvers');
  if (workflow.approval.jira) out.push(`Jira project ${workflow.approval.jira.project}`);
  return out;
}

/** Answers "may I, who approves, does it auto-approve or break glass, for how long?" with no side effects. */
export function simulateRequest(policy: Policy, input: SimulationInput): SimulationResult {
  const resource = policy.resources.get(input.resource);
  const workflow = resource ? policy.workflows.get(resource.workflow) : undefined;
  const empty: SimulationResult = {
    resource: input.resource,
    allowed: false,
    outcome: 'refused',
    stages: [],
    approvalRoute: [],
    selfApproval: false,
  };
  if (!resource || !workflow) {
    return { ...empty, refusal: { code: 'UNKNOWN_RESOURCE', message: `There is no resource called "${input.resource}".` } };
  }

  const textChecked = input.reason !== undefined;
  const effectivePolicy = textChecked ? policy : withoutTextChecks(policy, workflow);
  const bg = workflow.break_glass;
  const oncallServices = input.oncall && bg ? bg.pagerduty_services : [];
  const activeIncidents = input.incident ? oncallServices.map((service) => ({ id: 'SIMULATED', service })) : [];
  const connected = input.pagerDutyConnected !== false;
  const ctx = { now: input.now, policy: effectivePolicy, actor: input.requester, oncallServices, activeIncidents, pagerDutyConnected: connected };
  const submit = (breakGlass: boolean, pagerDutyConnected = connected) =>
    decide(
      undefined,
      {
        type: 'submit',
        id: 'simulated',
        resource: resource.name,
        ...(input.durationMs !== undefined ? { durationMs: input.durationMs } : {}),
        reason: input.reason ?? '',
        ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
        keyFingerprint: 'SHA256:simulated',
        requester: {
          id: input.requester.id,
          ...(input.requester.email ? { email: input.requester.email } : {}),
          ...(input.requester.emailVerified ? { emailVerified: true } : {}),
        },
        via: 'cli',
        breakGlass,
      },
      { ...ctx, pagerDutyConnected },
    );

  const normal = submit(false);
  const breakGlass = bg ? submit(true) : undefined;
  const onceConnected = bg && !connected ? submit(true, true) : undefined;
  const useBreakGlass = (input.oncall === true || input.incident === true) && breakGlass?.kind === 'transition';
  const decision = useBreakGlass && breakGlass ? breakGlass : normal;

  const result: SimulationResult = {
    ...empty,
    resource: resource.name,
    workflow: workflow.name,
    certificate: resource.ssh ? 'ssh' : 'x509',
    reason: {
      required: workflow.reason.required,
      ...(workflow.reason.pattern ? { pattern: workflow.reason.pattern } : {}),
      ...(workflow.reason.hint ? { hint: workflow.reason.hint } : {}),
    },
    ...(workflow.ticket
      ? {
          ticket: {
            required: workflow.ticket.required,
            ...(workflow.ticket.pattern ? { pattern: workflow.ticket.pattern } : {}),
            ...(workflow.ticket.hint ? { hint: workflow.ticket.hint } : {}),
          },
        }
      : {}),
    stages: workflow.stages.map((s, index) => ({
      index,
      name: s.name,
      approvals: s.approvals,
      approvers: describeApprovers(s.approvers),
      ...(s.reminder !== undefined ? { reminder: formatDuration(s.reminder) } : {}),
      ...(s.timeout !== undefined
        ? { timeout: formatDuration(s.timeout), onTimeout: s.on_timeout ?? (index < workflow.stages.length - 1 ? 'escalate' : 'expire') }
        : {}),
      requesterIsApprover: isNamedApprover(input.requester, s.approvers),
    })),
    approvalRoute: route(workflow),
    selfApproval: workflow.self_approval,
    ...(bg
      ? {
          breakGlass:
            breakGlass?.kind === 'transition'
              ? { available: true }
              : {
                  available: false,
                  ...(breakGlass?.kind === 'refused' ? { reason: breakGlass.message } : {}),
                  ...(onceConnected
                    ? {
                        onceConnected:
                          onceConnected.kind === 'transition'
                            ? { available: true }
                            : { available: false, ...(onceConnected.kind === 'refused' ? { reason: onceConnected.message } : {}) },
                      }
                    : {}),
                },
        }
      : {}),
  };

  if (decision.kind !== 'transition') {
    const refusal = decision.kind === 'refused' ? { code: decision.code, message: decision.message } : { code: 'NOOP', message: decision.reason };
    return { ...result, refusal, allowed: false, outcome: 'refused' };
  }
  const req = decision.request;
  result.allowed = true;
  if (req.subject) result.subject = describeSubject(req.subject);
  result.duration = {
    requested: formatDuration(req.requestedMs),
    granted: formatDuration(req.grantedMs),
    default: formatDuration(resource.duration.default),
    max: formatDuration(resource.duration.max),
  };
  if (req.breakGlass) result.outcome = 'break_glass';
  else if (req.autoApproved) {
    result.outcome = 'auto_approved';
    result.autoApproveRule = req.autoApproved.rule;
  } else result.outcome = 'needs_approval';
  return result;
}

/** Whether the requester may request at all under the workflow (used in messages). */
export function mayRequest(policy: Policy, actor: Actor, resourceName: string): boolean {
  const resource = policy.resources.get(resourceName);
  const workflow = resource ? policy.workflows.get(resource.workflow) : undefined;
  return workflow !== undefined && isInPeople(actor, workflow.requesters);
}
