import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { eventually } from '../helpers/app';
import { certificateIn, hasButton, messageText, userSshKey } from '../slack/e2e-harness';
import type { FakeSlackUser } from '../fakes/slack-api';
import { PD_FROM } from './pd-fixtures';
import { PdE2e } from './pd-e2e';

/**
 * The shipped `workflows/break-glass.yaml`, as written, with PagerDuty on: the examples of
 * docs/pagerduty.md and the README. An on-call engineer with an open incident gets
 * `prod-root-breakglass` at once and loses it when the incident resolves; an engineer PagerDuty
 * assigns to an incident on PAPI7X2 gets it without asking.
 */

const shipped = parse(readFileSync(join(__dirname, '../../workflows/break-glass.yaml'), 'utf8')) as Record<string, unknown>;

const ENG = { id: 'U0ENG0001', name: 'eng', email: 'eng@example.com', realName: 'On-call Engineer', groups: ['S0SREGRP'] } satisfies FakeSlackUser;
const RESPONDER = { id: 'U0RESP001', name: 'resp', email: 'resp@example.com', realName: 'Responder', groups: ['S0SREGRP'] } satisfies FakeSlackUser;
const REVIEWER = { id: 'U0REVIEW1', name: 'reviewer', email: 'reviewer@example.com', groups: ['S04T8KQ1N2P'] } satisfies FakeSlackUser;
const NOTIFIED: FakeSlackUser[] = [
  { id: 'U03JZ7P1LMA', name: 'sec1', email: 'sec1@example.com' },
  { id: 'U02H5N8QW3K', name: 'sec2', email: 'sec2@example.com' },
];
const LEAD = { id: 'U0LEAD001', name: 'lead', email: 'lead@example.com', groups: ['S0LEADGRP'] } satisfies FakeSlackUser;

let t: PdE2e;
const engKey = userSshKey('eng@laptop');
const respKey = userSshKey('resp@laptop');

beforeAll(async () => {
  t = await PdE2e.start({
    workflows: shipped,
    users: [ENG, RESPONDER, REVIEWER, LEAD, ...NOTIFIED],
    usergroups: [
      { id: 'S0SREGRP', handle: 'sre' },
      { id: 'S0LEADGRP', handle: 'sre-leads' },
      { id: 'S04T8KQ1N2P', handle: 'security-reviewers' },
    ],
    pagerduty: {
      users: [
        { id: 'PENG001', email: ENG.email, name: 'On-call Engineer' },
        { id: 'PRESP01', email: RESPONDER.email, name: 'Responder' },
        { id: 'PBOT001', email: PD_FROM, name: 'access-bot' },
      ],
      services: [
        { id: 'PAPI7X2', name: 'API', escalationPolicy: 'PSRE9K1' },
        { id: 'PDB7Q2X', name: 'Database', escalationPolicy: 'PSRE9K1' },
      ],
      escalationPolicies: [{ id: 'PSRE9K1', name: 'SRE' }],
      oncalls: [{ escalationPolicy: 'PSRE9K1', level: 1, user: 'PENG001' }],
    },
  });
  await t.e2e.ctx.keyService.register(ENG.id, engKey.pub, 'slack');
});

afterAll(async () => {
  await t?.stop();
  engKey.remove();
  respKey.remove();
});

test('`/access breakglass prod-root-breakglass 30m INC-812 restart wedged pgbouncer on api-7`: granted at once during an incident, ended when it resolves', async () => {
  const incident = t.pd.trigger('PAPI7X2', ['PENG001'], 'INC-812 pgbouncer wedged');
  const reply = await t.e2e.command(ENG.id, 'breakglass prod-root-breakglass 30m INC-812 restart wedged pgbouncer on api-7');
  const request = await t.e2e.latestRequestOf(ENG.id);
  expect(String(reply.body.text)).toContain(request.id);
  const issued = await t.e2e.waitForState(request.id, 'issued');
  expect(issued.certificate?.principals).toEqual(['breakglass']);
  expect(issued.breakGlass).toMatchObject({ incidentId: incident.id, oncall: { level: 1, escalationPolicy: 'PSRE9K1' } });
  await eventually(() => t.e2e.messagesWith('broke glass', 'C05SECALRT1')[0], 10_000, 'the alert in C05SECALRT1');
  await eventually(() => t.e2e.fake.messages.find((m) => m.channel === t.e2e.fake.dmChannelOf(REVIEWER.id) && hasButton(m, 'access.close_review', request.id)), 10_000, 'the review for S04T8KQ1N2P');

  t.pd.setStatus(incident.id, 'resolved');
  expect((await t.deliver('incident.resolved', incident.id)).status).toBe(202);
  await t.e2e.waitForState(request.id, 'revoked');
});

test('an engineer PagerDuty assigns to an incident on PAPI7X2 gets prod-root-breakglass without asking; a key added later brings it', async () => {
  const incident = t.pd.trigger('PAPI7X2', ['PRESP01'], 'API latency');
  expect((await t.deliver('incident.triggered', incident.id)).status).toBe(202);
  await eventually(() => t.e2e.messagesWith('/access key add', t.e2e.fake.dmChannelOf(RESPONDER.id))[0], 10_000, 'the add-a-key DM');
  await t.e2e.ctx.keyService.register(RESPONDER.id, respKey.pub, 'slack');
  const grant = await eventually(async () => (await t.e2e.ctx.store.listByRequester(RESPONDER.id, 10)).find((r) => r.breakGlass?.incidentId === incident.id));
  expect(grant.resource).toBe('prod-root-breakglass');
  await t.e2e.waitForState(grant.id, 'issued');
  await eventually(() => t.e2e.fake.messages.find((m) => m.channel === t.e2e.fake.dmChannelOf(RESPONDER.id) && certificateIn(m) !== undefined && messageText(m).includes(grant.id)));

  t.pd.setStatus(incident.id, 'resolved');
  await t.deliver('incident.resolved', incident.id);
  await t.e2e.waitForState(grant.id, 'revoked');
});
