import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCa } from '../../src/ca/ca-directory';
import { pagerDutySignature } from '../../src/pagerduty/webhook-signature';
import { eventually } from '../helpers/app';
import { startTestSshd, type TestSshd } from '../helpers/sshd';
import { certificateIn, messageText, userSshKey } from '../slack/e2e-harness';
import { LOGIN } from '../slack/e2e-fixtures';
import { FakePagerDutyApi } from '../fakes/pagerduty-api';
import { ALICE, DAVE, DB_SERVICE, ERIN, GRACE, pagerDutyAccount, USERGROUPS, USERS, WORKFLOWS } from './pd-fixtures';
import { PdE2e } from './pd-e2e';

/**
 * Access granted by the incident itself (`break_glass.on_incident`): signed v3 webhooks, the incident
 * re-read from the fake PagerDuty, certificates DM'd to its assignees, revoked into the KRL when it resolves.
 */

let t: PdE2e;
let sshd: TestSshd;
const aliceKey = userSshKey('alice@laptop');
const erinKey = userSshKey('erin@laptop');
const graceKey = userSshKey('grace@laptop');

beforeAll(async () => {
  t = await PdE2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS, pagerduty: pagerDutyAccount() });
  await t.e2e.ctx.keyService.register(ALICE.id, aliceKey.pub, 'slack');
  await t.e2e.ctx.keyService.register(GRACE.id, graceKey.pub, 'slack');
  sshd = await startTestSshd({ trustedCaKeys: [loadCa(t.e2e.ctx.env.CA_DIR).ssh.publicLine], user: LOGIN });
});

afterAll(async () => {
  await sshd?.stop();
  await t?.stop();
  for (const k of [aliceKey, erinKey, graceKey]) k.remove();
});

beforeEach(() => t.pd.heal());

const grantsOf = async (userId: string, incidentId: string) =>
  (await t.e2e.ctx.store.listByRequester(userId, 200)).filter((r) => r.breakGlass?.incidentId === incidentId);

describe('POST /webhooks/pagerduty', () => {
  test('a bad signature is refused with 401 and audited, and nothing is read or granted', async () => {
    const incident = t.pd.trigger(DB_SERVICE, ['PALICE1']);
    const calls = t.pd.calls(/^\/incidents\//).length;
    const wrong = await t.deliver('incident.triggered', incident.id, { secrets: ['not-the-secret'] });
    expect(wrong.status).toBe(401);
    const missing = await t.deliver('incident.triggered', incident.id, { signature: '' });
    expect(missing.status).toBe(401);
    const tampered = t.pd.webhookBody('incident.triggered', incident.id);
    const res = await FakePagerDutyApi.deliver(t.webhookUrl, tampered.replace(incident.id, 'Q999999'), [], pagerDutySignature(tampered, [t.secret]));
    expect(res.status).toBe(401);
    const refused = await t.e2e.audit((e) => e.type === 'webhook.signature_refused' && e.data.source === 'pagerduty');
    expect(refused.map((e) => e.data.reason)).toEqual(['mismatch', 'missing', 'mismatch']);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.pd.calls(/^\/incidents\//)).toHaveLength(calls);
    expect(await grantsOf(ALICE.id, incident.id)).toHaveLength(0);
    t.pd.setStatus(incident.id, 'resolved');
  });

  test('a junk body with a valid signature is a 400; a non-incident event is accepted and ignored', async () => {
    const junk = '{"hello":"world"}';
    expect((await FakePagerDutyApi.deliver(t.webhookUrl, junk, [t.secret])).status).toBe(400);
    const other = JSON.stringify({ event: { id: '01SVC', event_type: 'service.updated', resource_type: 'service', data: { id: 'PDB7Q2X', type: 'service' } } });
    expect((await FakePagerDutyApi.deliver(t.webhookUrl, other, [t.secret])).status).toBe(202);
  });

  test('during secret rotation: two signatures, one valid, is accepted; a redelivery of the same event id is acknowledged and does nothing', async () => {
    const incident = t.pd.trigger(DB_SERVICE, ['PALICE1'], 'Primary DB failover');
    const body = t.pd.webhookBody('incident.triggered', incident.id, '01ROTATION1');
    const first = await FakePagerDutyApi.deliver(t.webhookUrl, body, ['the-old-secret', t.secret]);
    expect(first.status).toBe(202);
    const [grant] = await eventually(async () => {
      const found = await grantsOf(ALICE.id, incident.id);
      return found.length ? found : undefined;
    });
    // The worker re-reads the incident too, before it signs: count after that.
    await t.e2e.waitForState(grant!.id, 'issued');
    const reads = t.pd.calls(new RegExp(`^/incidents/${incident.id}$`)).length;
    const again = await FakePagerDutyApi.deliver(t.webhookUrl, body, [t.secret, 'the-old-secret']);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'duplicate' });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.pd.calls(new RegExp(`^/incidents/${incident.id}$`))).toHaveLength(reads);
    expect(await grantsOf(ALICE.id, incident.id)).toHaveLength(1);
    expect(await t.e2e.audit((e) => e.type === 'pagerduty.webhook' && e.data.event === '01ROTATION1')).toHaveLength(1);
    await t.e2e.ctx.service.revoke(grant!.id, ALICE.id, 'slack');
    t.pd.setStatus(incident.id, 'resolved');
  });
});

describe('access granted by the incident', () => {
  test('incident assigned → certificate by DM, a note on the incident; resolved → revoked at once, the serial in the KRL and sshd refuses it', async () => {
    const incident = t.pd.trigger(DB_SERVICE, ['PALICE1', 'PERIN01', 'PGRACE1', 'PNOSLK1'], 'Replication lag on db-2');
    expect((await t.deliver('incident.triggered', incident.id)).status).toBe(202);

    const grant = await eventually(async () => (await grantsOf(ALICE.id, incident.id))[0]);
    expect(grant).toMatchObject({
      resource: 'incident-root',
      reason: `PagerDuty incident #${incident.number}: Replication lag on db-2`,
      breakGlass: { incidentId: incident.id, service: DB_SERVICE, incidentStatus: 'triggered', onIncident: { assignee: 'PALICE1' } },
    });
    const issued = await t.e2e.waitForState(grant.id, 'issued');
    expect(issued.expiresAt! - issued.approvedAt!).toBe(2 * 3_600_000);
    const [granted] = await t.e2e.audit((e) => e.type === 'breakglass.incident_granted' && e.requestId === grant.id);
    expect(granted?.data).toMatchObject({ incident: incident.id, incidentStatus: 'triggered', service: DB_SERVICE, assignee: 'PALICE1', requester: ALICE.id });
    expect((await t.e2e.audit((e) => e.type === 'request.approved' && e.requestId === grant.id))[0]?.data.route).toBe('incident');

    const dm = await eventually(
      () => t.e2e.fake.messages.find((m) => m.channel === t.e2e.fake.dmChannelOf(ALICE.id) && certificateIn(m) !== undefined && messageText(m).includes(grant.id)),
      10_000,
      'the certificate DM',
    );
    await eventually(() => t.pd.notes.find((n) => n.incident === incident.id && n.content.includes(grant.id) && n.content.includes('granted by this incident')));

    // Grace is not eligible (not in the workflow's requesters); the contractor has no Slack user: both audited, neither granted.
    expect(await grantsOf(GRACE.id, incident.id)).toHaveLength(0);
    const refusals = await eventually(async () => {
      const found = await t.e2e.audit((e) => e.type === 'breakglass.incident_refused' && e.data.incident === incident.id);
      return found.length >= 3 ? found : undefined;
    });
    expect(refusals.map((e) => e.data.code).sort()).toEqual(['KEY_REQUIRED', 'NOT_ELIGIBLE', 'NO_SLACK_USER']);

    // Erin has no key: she is told how to add one; when she does, the grant follows while the incident is open.
    const told = await eventually(() => t.e2e.messagesWith('/access key add', t.e2e.fake.dmChannelOf(ERIN.id))[0]);
    expect(messageText(told)).toContain(`incident #${incident.number}`);
    expect(messageText(told)).toContain('incident-root');
    await t.e2e.ctx.keyService.register(ERIN.id, erinKey.pub, 'slack');
    const erinGrant = await eventually(async () => (await grantsOf(ERIN.id, incident.id))[0]);
    await t.e2e.waitForState(erinGrant.id, 'issued');

    // An acknowledgement (a later event of the same incident) grants nothing twice.
    t.pd.setStatus(incident.id, 'acknowledged');
    expect((await t.deliver('incident.acknowledged', incident.id)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(await grantsOf(ALICE.id, incident.id)).toHaveLength(1);

    const certPath = join(aliceKey.dir, 'incident-cert.pub');
    writeFileSync(certPath, `${certificateIn(dm)}\n`);
    const before = await sshd.login({ privateKeyPath: aliceKey.privatePath, certPath, command: 'id -un' });
    expect(before.ok).toBe(true);

    t.pd.setStatus(incident.id, 'resolved');
    expect((await t.deliver('incident.resolved', incident.id)).status).toBe(202);
    const revoked = await t.e2e.waitForState(grant.id, 'revoked');
    expect(revoked.closeReason).toBe(`PagerDuty incident #${incident.number} resolved`);
    await t.e2e.waitForState(erinGrant.id, 'revoked');
    expect((await t.e2e.audit((e) => e.type === 'breakglass.incident_resolved' && e.requestId === grant.id))[0]?.data).toMatchObject({ action: 'revoked', incident: incident.id });

    const krlPath = join(aliceKey.dir, 'revoked.krl');
    const krl = await eventually(async () => {
      const published = await t.e2e.ctx.published.read();
      if (!published) return undefined;
      writeFileSync(krlPath, published.krl);
      try {
        execFileSync('ssh-keygen', ['-Q', '-f', krlPath, certPath], { encoding: 'utf8' });
        return undefined;
      } catch (err) {
        return String((err as { stdout?: string }).stdout).includes('REVOKED') ? published.krl : undefined;
      }
    }, 10_000, 'the certificate in the published KRL');
    await sshd.writeKrl(krl);
    const after = await sshd.login({ privateKeyPath: aliceKey.privatePath, certPath, command: 'id -un' });
    expect(after.ok).toBe(false);
    expect(after.refusal).toMatch(/revoked/);
    await eventually(() => t.pd.notes.find((n) => n.incident === incident.id && n.content.includes(grant.id) && n.content.includes('revoked')));
  }, 40_000);

  test('reassigned away from someone: the grant the incident made them is revoked, and the new assignee is granted', async () => {
    const daveKey = userSshKey('dave@laptop');
    try {
      await t.e2e.ctx.keyService.register(DAVE.id, daveKey.pub, 'slack');
      const incident = t.pd.trigger(DB_SERVICE, ['PALICE1']);
      await t.deliver('incident.triggered', incident.id);
      const aliceGrant = await eventually(async () => (await grantsOf(ALICE.id, incident.id))[0]);
      await t.e2e.waitForState(aliceGrant.id, 'issued');

      t.pd.reassign(incident.id, ['PDAVE01']);
      expect((await t.deliver('incident.reassigned', incident.id)).status).toBe(202);
      const revoked = await t.e2e.waitForState(aliceGrant.id, 'revoked');
      expect(revoked.closeReason).toMatch(/No longer assigned to PagerDuty incident/);
      const [unassigned] = await t.e2e.audit((e) => e.type === 'breakglass.incident_unassigned' && e.requestId === aliceGrant.id);
      expect(unassigned?.data).toMatchObject({ incident: incident.id, assignee: 'PALICE1', action: 'revoked' });
      const daveGrant = await eventually(async () => (await grantsOf(DAVE.id, incident.id))[0]);
      await t.e2e.waitForState(daveGrant.id, 'issued');

      // An event that still assigns Dave changes nothing for him.
      expect((await t.deliver('incident.acknowledged', incident.id)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
      expect((await t.e2e.request(daveGrant.id)).state).toBe('issued');
      t.pd.setStatus(incident.id, 'resolved');
      await t.deliver('incident.resolved', incident.id);
      await t.e2e.waitForState(daveGrant.id, 'revoked');
    } finally {
      daveKey.remove();
    }
  });

  test('a resolve event that never arrives: the sweep re-reads the incident and ends its grants', async () => {
    const incident = t.pd.trigger(DB_SERVICE, ['PALICE1']);
    await t.deliver('incident.triggered', incident.id);
    const grant = await eventually(async () => (await grantsOf(ALICE.id, incident.id))[0]);
    await t.e2e.waitForState(grant.id, 'issued');
    t.pd.setStatus(incident.id, 'resolved');
    expect(await t.integration.incidents.sweep()).toBe(1);
    await t.e2e.waitForState(grant.id, 'revoked');
  });

  test('PagerDuty down when the event comes: nothing is granted from the webhook body, and the failure is audited', async () => {
    const incident = t.pd.trigger(DB_SERVICE, ['PALICE1']);
    t.pd.breakAll({ status: 503 });
    expect((await t.deliver('incident.triggered', incident.id)).status).toBe(202);
    const [failed] = await eventually(async () => {
      const found = await t.e2e.audit((e) => e.type === 'external.failed' && String(e.data.what).includes(incident.id));
      return found.length ? found : undefined;
    });
    expect(failed?.data.error).toBe('HTTP 503');
    expect(await grantsOf(ALICE.id, incident.id)).toHaveLength(0);
    t.pd.heal();
    t.pd.setStatus(incident.id, 'resolved');
  });

  test('with a grace period the grant is shortened, then ends and its certificate is revoked', async () => {
    const policy = t.e2e.ctx.policy;
    const workflow = policy.workflows.get('incident-grants')!;
    const graced = { ...workflow, break_glass: { ...workflow.break_glass!, on_incident: { ...workflow.break_glass!.on_incident!, grace: 2_000 } } };
    (policy.workflows as Map<string, typeof workflow>).set('incident-grants', graced);
    try {
      const incident = t.pd.trigger(DB_SERVICE, ['PDAVE01']);
      await t.e2e.ctx.keyService.register(DAVE.id, aliceKey.pub.replace('alice@laptop', 'dave@laptop'), 'slack');
      await t.deliver('incident.triggered', incident.id);
      const grant = await eventually(async () => (await grantsOf(DAVE.id, incident.id))[0]);
      await t.e2e.waitForState(grant.id, 'issued');
      t.pd.setStatus(incident.id, 'resolved');
      await t.deliver('incident.resolved', incident.id);
      const shortened = await eventually(async () => {
        const r = await t.e2e.request(grant.id);
        return r.breakGlass?.incidentResolvedAt !== undefined ? r : undefined;
      });
      expect(shortened.state).toBe('issued');
      expect(shortened.expiresAt! - shortened.breakGlass!.incidentResolvedAt!).toBe(2_000);
      const expired = await t.e2e.waitForState(grant.id, 'expired', 15_000);
      const serial = expired.certificate!.serial;
      await eventually(async () => (await t.e2e.ctx.published.revoked()).find((r) => r.serial === serial), 10_000, 'the serial among the revoked');
      expect((await t.e2e.audit((e) => e.type === 'request.expired' && e.requestId === grant.id))[0]?.data).toMatchObject({ certificateRevoked: true, serial });
    } finally {
      (policy.workflows as Map<string, typeof workflow>).set('incident-grants', workflow);
    }
  }, 30_000);
});
