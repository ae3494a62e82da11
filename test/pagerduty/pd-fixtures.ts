import type { FakeSlackUser, FakeSlackUsergroup } from '../fakes/slack-api';
import type { FakePagerDutyOptions } from '../fakes/pagerduty-api';
import { LOGIN } from '../slack/e2e-fixtures';

/** The Slack workspace, PagerDuty account and workflows the PagerDuty tests share. */

export const OPS_CHANNEL = 'C0SREOPS';
export const ALERT_CHANNEL = 'C0SECALRT';

export const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Oncall', groups: ['S0SRE'] } satisfies FakeSlackUser;
export const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Lead', groups: ['S0LEADS'] } satisfies FakeSlackUser;
export const DAVE = { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', realName: 'Dave Secondary', groups: ['S0SRE'] } satisfies FakeSlackUser;
export const CAROL = { id: 'U0CAROL', name: 'carol', email: 'carol@example.com', realName: 'Carol Security', groups: ['S0SEC'] } satisfies FakeSlackUser;
export const ERIN = { id: 'U0ERIN', name: 'erin', email: 'erin@example.com', realName: 'Erin Responder', groups: ['S0SRE'] } satisfies FakeSlackUser;
export const FRANK = { id: 'U0FRANK', name: 'frank', email: 'frank@example.com', realName: 'Frank Unconfirmed', groups: ['S0SRE'], emailConfirmed: false } satisfies FakeSlackUser;
export const GRACE = { id: 'U0GRACE', name: 'grace', email: 'grace@example.com', realName: 'Grace Outsider', groups: [] } satisfies FakeSlackUser;

export const USERS: FakeSlackUser[] = [ALICE, BOB, DAVE, CAROL, ERIN, FRANK, GRACE];
export const USERGROUPS: FakeSlackUsergroup[] = [
  { id: 'S0SRE', handle: 'sre' },
  { id: 'S0LEADS', handle: 'sre-leads' },
  { id: 'S0SEC', handle: 'security' },
];

export const API_SERVICE = 'PAPI7X2';
export const DB_SERVICE = 'PDB7Q2X';
export const API_POLICY = 'PSRE9K1';
export const DB_POLICY = 'PDBA001';
export const QUIET_SERVICE = 'PQUIET1';
export const QUIET_POLICY = 'PQUIET9';
/** A service whose on-call context nothing has looked up (and cached) before its test. */
export const COLD_SERVICE = 'PCOLD01';

export const PD_FROM = 'access-bot@example.com';

export function pagerDutyAccount(): FakePagerDutyOptions {
  return {
    users: [
      { id: 'PALICE1', email: ALICE.email, name: 'Alice Oncall' },
      { id: 'PBOB001', email: BOB.email, name: 'Bob Lead' },
      { id: 'PDAVE01', email: DAVE.email, name: 'Dave Secondary' },
      { id: 'PERIN01', email: ERIN.email, name: 'Erin Responder' },
      { id: 'PFRANK1', email: FRANK.email, name: 'Frank Unconfirmed' },
      { id: 'PGRACE1', email: GRACE.email, name: 'Grace Outsider' },
      { id: 'PNOSLK1', email: 'contractor@elsewhere.example', name: 'No Slack' },
      { id: 'PBOT001', email: PD_FROM, name: 'access-bot' },
    ],
    services: [
      { id: API_SERVICE, name: 'API', escalationPolicy: API_POLICY },
      { id: DB_SERVICE, name: 'Database', escalationPolicy: DB_POLICY },
      { id: QUIET_SERVICE, name: 'Quiet', escalationPolicy: QUIET_POLICY },
      { id: COLD_SERVICE, name: 'Cold', escalationPolicy: QUIET_POLICY },
    ],
    escalationPolicies: [
      { id: API_POLICY, name: 'SRE' },
      { id: DB_POLICY, name: 'DBA' },
      { id: QUIET_POLICY, name: 'Quiet' },
    ],
    oncalls: [
      { escalationPolicy: API_POLICY, level: 1, user: 'PALICE1', schedule: 'PSCHED1' },
      { escalationPolicy: API_POLICY, level: 2, user: 'PDAVE01', schedule: 'PSCHED2' },
      { escalationPolicy: API_POLICY, level: 3, user: 'PGRACE1' },
      { escalationPolicy: DB_POLICY, level: 1, user: 'PBOB001' },
      { escalationPolicy: QUIET_POLICY, level: 1, user: 'PFRANK1' },
    ],
  };
}

export const WORKFLOWS = {
  admins: { users: [CAROL.id] },
  resources: {
    'prod-root-breakglass': {
      description: 'Root on production, for incidents',
      workflow: 'oncall-break-glass',
      duration: { default: '1h', max: '2h' },
      pagerduty_service: API_SERVICE,
      ssh: { principals: [LOGIN] },
    },
    'db-shell': {
      description: 'Database hosts',
      workflow: 'oncall-approval',
      duration: { default: '30m', max: '2h' },
      pagerduty_service: DB_SERVICE,
      ssh: { principals: [LOGIN] },
    },
    'quiet-ssh': {
      description: 'Quiet hosts, approved by an on-call nobody in Slack holds',
      workflow: 'quiet',
      duration: { default: '30m', max: '1h' },
      pagerduty_service: QUIET_SERVICE,
      ssh: { principals: [LOGIN] },
    },
    'cold-ssh': {
      description: 'Cold hosts',
      workflow: 'quiet',
      duration: { default: '30m', max: '1h' },
      pagerduty_service: COLD_SERVICE,
      ssh: { principals: [LOGIN] },
    },
    'incident-root': {
      description: 'Root for the responders of a database incident, granted by the incident',
      workflow: 'incident-grants',
      duration: { default: '1h', max: '4h' },
      ssh: { principals: [LOGIN] },
    },
  },
  workflows: {
    'oncall-break-glass': {
      requesters: { slack_groups: ['sre'] },
      stages: [{ name: 'secondary on-call', approvers: { pagerduty_oncall: { escalation_policy: API_POLICY, levels: [2] }, slack_groups: ['sre-leads'] } }],
      approval: { slack_channel: OPS_CHANNEL, slack_dm: true },
      break_glass: {
        pagerduty_services: [API_SERVICE],
        oncall_levels: [1, 2],
        require_active_incident: true,
        max_duration: '1h',
        notify: { slack_channel: ALERT_CHANNEL, users: [BOB.id] },
        review_required: true,
        review_reminder: '2s',
        reviewers: { slack_groups: ['security'] },
      },
    },
    'oncall-approval': {
      requesters: { everyone: true },
      reason: { required: false },
      stages: [
        { name: 'dba on-call', approvers: { pagerduty_oncall: { escalation_policy: DB_POLICY, levels: [1] } }, timeout: '2s' },
        { name: 'sre on-call', approvers: { pagerduty_oncall: { escalation_policy: API_POLICY, levels: [2] }, users: [CAROL.id] } },
      ],
      approval: { slack_channel: OPS_CHANNEL, slack_dm: true },
    },
    quiet: {
      requesters: { everyone: true },
      reason: { required: false },
      stages: [{ name: 'quiet on-call', approvers: { pagerduty_oncall: { escalation_policy: QUIET_POLICY, levels: [1] }, users: [BOB.id] } }],
      approval: { slack_dm: true },
    },
    'incident-grants': {
      requesters: { slack_groups: ['sre'] },
      stages: [{ name: 'leads', approvers: { slack_groups: ['sre-leads'] } }],
      approval: { slack_dm: true },
      break_glass: {
        pagerduty_services: [DB_SERVICE],
        max_duration: '2h',
        review_required: false,
        on_incident: { services: [DB_SERVICE] },
      },
    },
  },
};
