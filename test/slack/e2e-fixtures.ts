import type { FakeSlackUser, FakeSlackUsergroup } from '../fakes/slack-api';

/** The workspace and workflows the Slack end-to-end tests share. */

export const APPROVALS_CHANNEL = 'C0APPROVALS';
export const ESCALATION_CHANNEL = 'C0ESCALATE';
/** The Unix user of the test sshd (test/helpers/sshd.ts) and the principal certificates carry. */
export const LOGIN = 'accessbot-test';

export const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Liddell', groups: ['S0ENG'] } satisfies FakeSlackUser;
export const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Lead', groups: ['S0LEADS'] } satisfies FakeSlackUser;
export const DAVE = { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', realName: 'Dave Lead', groups: ['S0LEADS'] } satisfies FakeSlackUser;
export const CAROL = { id: 'U0CAROL', name: 'carol', email: 'carol@example.com', realName: 'Carol Security', groups: ['S0SEC'] } satisfies FakeSlackUser;
export const MALLORY = { id: 'U0MALLORY', name: 'mallory', email: 'mallory@example.com', groups: ['S0ENG'] } satisfies FakeSlackUser;

export const USERS: FakeSlackUser[] = [ALICE, BOB, DAVE, CAROL, MALLORY];
export const USERGROUPS: FakeSlackUsergroup[] = [
  { id: 'S0ENG', handle: 'engineers' },
  { id: 'S0LEADS', handle: 'leads' },
  { id: 'S0SEC', handle: 'security' },
];

export const WORKFLOWS = {
  resources: {
    'prod-ssh': {
      description: 'Production app servers',
      workflow: 'ops',
      duration: { default: '1h', max: '4h' },
      ssh: { principals: [LOGIN] },
    },
    'staging-ssh': {
      description: 'Staging app servers',
      workflow: 'ops',
      duration: { default: '1h', max: '4h' },
      ssh: { principals: [LOGIN] },
    },
    kube: {
      description: 'Production Kubernetes',
      workflow: 'ops',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['developers'], usage: 'kubernetes', kubernetes: { cluster: 'prod', server: 'https://k8s.example.com:6443' } },
    },
    'prod-db': {
      description: 'Production database hosts',
      workflow: 'two-stage',
      duration: { default: '30m', max: '2h' },
      ssh: { principals: [LOGIN] },
    },
    batch: {
      description: 'Batch servers',
      workflow: 'escalating',
      duration: { default: '1h', max: '1h' },
      ssh: { principals: ['batch'] },
    },
    vault: {
      description: 'Vault admin',
      workflow: 'security-only',
      duration: { default: '15m', max: '1h' },
      ssh: { principals: ['vault'] },
    },
    'core-router': {
      description: 'Core routers',
      workflow: 'emergency',
      duration: { default: '30m', max: '1h' },
      ssh: { principals: ['netops'] },
    },
  },
  workflows: {
    ops: {
      requesters: { slack_groups: ['engineers'] },
      reason: { required: true, pattern: '^(INC|CHG)-[0-9]+', hint: 'Start with the incident or change number, e.g. INC-123.' },
      stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }],
      approval: { slack_channel: APPROVALS_CHANNEL, slack_dm: true },
    },
    'two-stage': {
      requesters: { everyone: true },
      ticket: { required: true, pattern: '^OPS-[0-9]+$', hint: 'The change ticket, e.g. OPS-42.' },
      stages: [
        { name: 'leads', approvers: { slack_groups: ['leads'] } },
        { name: 'security', approvers: { slack_groups: ['security'] } },
      ],
      approval: { slack_channel: APPROVALS_CHANNEL, slack_dm: true },
    },
    escalating: {
      requesters: { everyone: true },
      reason: { required: false },
      stages: [
        { name: 'first-line', approvers: { users: [BOB.id] }, reminder: '1s', timeout: '2s' },
        { name: 'second-line', approvers: { users: [CAROL.id] } },
      ],
      approval: { slack_channel: ESCALATION_CHANNEL, slack_dm: true },
    },
    'security-only': {
      requesters: { slack_groups: ['security'] },
      stages: [{ name: 'security', approvers: { slack_groups: ['security'] } }],
    },
    emergency: {
      requesters: { slack_groups: ['engineers'] },
      stages: [{ name: 'netops', approvers: { users: [CAROL.id] } }],
      break_glass: { pagerduty_services: ['PNETOPS1'], require_active_incident: true, max_duration: '1h' },
    },
  },
};
