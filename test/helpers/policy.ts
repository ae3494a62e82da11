import { createHash } from 'node:crypto';
import type { Policy, Resource, Workflow } from '../../src/config/policy';
import { BUILTIN_RESERVED_LOGINS } from '../../src/config/reserved-logins';
import { WorkflowFileSchema } from '../../src/config/workflow-schema';

/** Builds a Policy from one in-memory workflow file through the real schema (no disk). */
export function policyFrom(file: unknown): Policy {
  const parsed = WorkflowFileSchema.parse(file);
  const source = { file: 'inline.yaml', line: 1 };
  const resources = new Map<string, Resource>();
  const workflows = new Map<string, Workflow>();
  for (const [name, spec] of Object.entries(parsed.resources ?? {})) resources.set(name, { ...spec, name, source });
  for (const [name, spec] of Object.entries(parsed.workflows ?? {})) workflows.set(name, { ...spec, name, source });
  return {
    resources,
    workflows,
    admins: parsed.admins ?? {},
    identities: new Map(Object.entries(parsed.identities ?? {})),
    allowedEmailDomains: parsed.allowed_email_domains ?? [],
    reservedLogins: new Set([...BUILTIN_RESERVED_LOGINS, ...(parsed.reserved_logins ?? [])]),
    hash: createHash('sha256').update(JSON.stringify(file)).digest('hex'),
    files: ['inline.yaml'],
  };
}

/** A policy with one resource per interesting workflow shape, used across engine and service tests. */
export function samplePolicy(): Policy {
  return policyFrom({
    admins: { users: ['UADMIN'] },
    allowed_email_domains: ['example.com'],
    resources: {
      'prod-db': {
        description: 'Production database',
        workflow: 'two-stage',
        duration: { default: '1h', max: '4h' },
        ssh: { principals: ['postgres', '{{user.username}}'] },
      },
      staging: {
        description: 'Staging host',
        workflow: 'team-auto',
        duration: { default: '2h', max: '8h' },
        ssh: { principals: ['deploy'] },
      },
      k8s: {
        description: 'Kubernetes prod',
        workflow: 'quorum',
        duration: { default: '1h', max: '2h' },
        x509: { groups: ['developers'] },
      },
      'prod-breakglass': {
        description: 'Break-glass root',
        workflow: 'breakglass',
        duration: { default: '30m', max: '2h' },
        ssh: { principals: ['root'] },
      },
    },
    workflows: {
      'two-stage': {
        requesters: { slack_groups: ['engineers'] },
        reason: { required: true, pattern: '^(INC|CHG)-[0-9]+', hint: 'Start with INC-123 or CHG-123.' },
        ticket: { required: true, pattern: '^[A-Z]+-[0-9]+$' },
        stages: [
          { name: 'leads', approvers: { slack_groups: ['db-leads'] }, timeout: '30m', reminder: '10m' },
          { name: 'security', approvers: { users: ['USEC1', 'USEC2'] }, timeout: '1h' },
        ],
        approval: { slack_channel: 'C0APPROVE', slack_dm: true },
        pending_ttl: '24h',
      },
      'team-auto': {
        requesters: { everyone: true },
        reason: { required: false },
        stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
        auto_approve: [{ requesters: { slack_groups: ['staging-team'] }, max_duration: '4h' }],
      },
      quorum: {
        requesters: { everyone: true },
        stages: [{ name: 'sre', approvers: { slack_groups: ['sre'] }, approvals: 2, timeout: '1h', on_timeout: 'expire' }],
        distinct_approvers: true,
      },
      breakglass: {
        requesters: { slack_groups: ['engineers'] },
        stages: [{ name: 'security', approvers: { users: ['USEC1'] } }],
        break_glass: {
          pagerduty_services: ['PSVC001'],
          require_active_incident: true,
          max_duration: '1h',
          reviewers: { users: ['USEC1'] },
        },
      },
    },
  });
}
