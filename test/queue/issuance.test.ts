import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBotProcess, type BotProcess } from '../../src/app/bot-process';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AuditEvent } from '../../src/audit/audit-event';
import type { AccessRequest } from '../../src/engine/types';
import { StaticDirectory } from '../../src/requests/static-directory';
import { eventually, testApp, type TestApp } from '../helpers/app';

const workflows = {
  admins: { users: ['UADMIN'] },
  resources: {
    box: {
      description: 'test box',
      workflow: 'one-stage',
      duration: { default: '1h', max: '2h' },
      ssh: {
        principals: ['{{user.username}}', 'deploy'],
        extensions: ['permit-pty', 'permit-port-forwarding'],
        source_address: ['127.0.0.1/32', '10.0.0.0/8'],
        force_command: '/usr/bin/id',
      },
    },
    kube: {
      description: 'cluster',
      workflow: 'one-stage',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['developers', 'oncall'], usage: 'kubernetes', kubernetes: { cluster: 'prod', server: 'https://k8s.example.com' } },
    },
  },
  workflows: {
    'one-stage': { requesters: { everyone: true }, stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }] },
  },
};

// One person per test: a person holds one open request per resource.
const people = [
  { id: 'UALICE', email: 'alice.smith@example.com', groups: [] },
  ...['UBOB', 'UCAROL', 'UDAVE', 'UERIN', 'UFRANK', 'UGRACE', 'UHEIDI', 'UIVAN', 'UJUDY', 'UKARL', 'UMALLORY'].map((id) => ({ id, email: `${id.slice(1).toLowerCase()}@example.com`, groups: [] })),
  { id: 'ULEAD', email: 'lead@example.com', groups: [] },
];

let app: TestApp;
let worker: WorkerProcess;
let bot: BotProcess;
let tmp: string;
let sshPub: string;

beforeAll(async () => {
  app = await testApp({ workflows, env: { EXPIRY_WARNING: '2s' }, integrations: { directory: new StaticDirectory(people) } });
  worker = await startWorkerProcess(app.ctx);
  bot = await startBotProcess(app.ctx, [], 0);
  tmp = mkdtempSync(join(tmpdir(), 'issue-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', join(tmp, 'id')]);
  sshPub = readFileSync(join(tmp, 'id.pub'), 'utf8');
});
afterAll(async () => {
  await bot.stop();
  await worker.stop();
  await app.cleanup();
});

async function approvedRequest(resource: string, key: string, user = 'UALICE'): Promise<AccessRequest> {
  await app.ctx.keyService.register(user, key, 'slack');
  const submitted = await app.ctx.service.submit(user, { resource, reason: 'test', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
  const approved = await app.ctx.service.review(submitted.request.id, 'ULEAD', 'approve', 'slack');
  if (approved.status !== 'ok') throw new Error(JSON.stringify(approved));
  return approved.request;
}

const issued = (id: string) =>
  eventually(async () => {
    const r = await app.ctx.store.get(id);
    return r?.state === 'issued' ? r : undefined;
  }, 10_000, `request ${id} issued`);

async function auditOf(id: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of app.ctx.audit.read()) if (e.requestId === id) out.push(e);
  return out;
}

const get = (path: string) => fetch(`http://127.0.0.1:${bot.port}${path}`);

describe('certificate issuance through the queue', () => {
  it('issues an OpenSSH certificate that ssh-keygen reads back with the approved window and the resource config', async () => {
    const approved = await approvedRequest('box', sshPub);
    const request = await issued(approved.id);
    const certFile = join(tmp, 'id-cert.pub');
    writeFileSync(certFile, request.certificate!.text);
    const listing = execFileSync('ssh-keygen', ['-L', '-f', certFile], { env: { ...process.env, TZ: 'UTC' } }).toString();
    expect(listing).toContain('Type: ssh-ed25519-cert-v01@openssh.com user certificate');
    expect(listing).toContain(`Key ID: "${approved.id} user=alice.smith@example.com resource=box approved-by=ULEAD"`);
    expect(listing).toMatch(new RegExp(`Serial: ${request.certificate!.serial}\\n`));
    expect(listing).toMatch(/Principals: \n\s+alice\.smith\n\s+deploy\n/);
    expect(listing).toMatch(/Critical Options: \n\s+force-command \/usr\/bin\/id\n\s+source-address 127\.0\.0\.1\/32,10\.0\.0\.0\/8\n/);
    expect(listing).toMatch(/Extensions: \n\s+permit-port-forwarding\n\s+permit-pty\n/);
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    expect(listing).toContain(`Valid: from ${fmt(approved.approvedAt! - 60_000)} to ${fmt(approved.expiresAt!)}`);

    const events = (await auditOf(approved.id)).filter((e) => e.type === 'cert.issued');
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ kind: 'ssh', serial: request.certificate!.serial, principals: ['alice.smith', 'deploy'] });
  });

  it('a replayed issuance job returns the stored certificate and signs nothing new', async () => {
    const approved = await approvedRequest('box', sshPub, 'UBOB');
    const first = await issued(approved.id);
    const serialBefore = await app.ctx.redis.get(app.ctx.keys.serialCounter);
    const replay = await worker.jobs.issue(approved.id, false);
    expect(replay).toEqual({ state: 'issued', serial: first.certificate!.serial, signedNow: false });
    expect(await app.ctx.redis.get(app.ctx.keys.serialCounter)).toBe(serialBefore);
    expect((await app.ctx.store.get(approved.id))?.certificate).toEqual(first.certificate);
  });

  it('issues an X.509 client certificate that openssl verifies against the published CA chain', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const approved = await approvedRequest('kube', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const request = await issued(approved.id);
    writeFileSync(join(tmp, 'client.pem'), request.certificate!.text);
    writeFileSync(join(tmp, 'chain.pem'), await (await get('/ca/x509_ca.pem')).text());
    expect(execFileSync('openssl', ['verify', '-CAfile', join(tmp, 'chain.pem'), join(tmp, 'client.pem')]).toString()).toMatch(/OK/);
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', join(tmp, 'client.pem')]).toString();
    expect(subject).toMatch(/O = developers, O = oncall, CN = alice.smith@example.com/);
  });

  it('revocation puts the serial in the KRL served over HTTP, within seconds', async () => {
    const approved = await approvedRequest('box', sshPub, 'UCAROL');
    const request = await issued(approved.id);
    const certFile = join(tmp, 'revoked-cert.pub');
    writeFileSync(certFile, request.certificate!.text);
    const krlFile = join(tmp, 'revoked.krl');
    const check = async () => {
      writeFileSync(krlFile, Buffer.from(await (await get('/ca/revoked.krl')).arrayBuffer()));
      return spawnSync('ssh-keygen', ['-Q', '-f', krlFile, certFile]).stdout.toString();
    };
    expect(await check()).toMatch(/: ok$/m);
    const revoked = await app.ctx.service.revoke(approved.id, 'UCAROL', 'slack', 'done');
    expect(revoked.status).toBe('ok');
    await eventually(async () => ((await check()).includes('REVOKED') ? true : undefined), 10_000, 'KRL lists the serial');
    expect((await auditOf(approved.id)).map((e) => e.type)).toContain('request.revoked');
  });

  it('revoking an X.509 grant lists it in the CRL that openssl checks', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const approved = await approvedRequest('kube', publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'UBOB');
    const request = await issued(approved.id);
    await app.ctx.service.revoke(approved.id, 'UADMIN', 'cli', 'offboarding');
    writeFileSync(join(tmp, 'rev.pem'), request.certificate!.text);
    writeFileSync(join(tmp, 'chain.pem'), await (await get('/ca/x509_ca.pem')).text());
    await eventually(async () => {
      writeFileSync(join(tmp, 'crl.pem'), await (await get('/ca/x509.crl')).text());
      try {
        execFileSync('openssl', ['verify', '-crl_check', '-CAfile', join(tmp, 'chain.pem'), '-CRLfile', join(tmp, 'crl.pem'), join(tmp, 'rev.pem')], { stdio: 'pipe' });
        return undefined;
      } catch (err) {
        return String((err as { stdout?: Buffer }).stdout) + String((err as { stderr?: Buffer }).stderr);
      }
    }, 10_000, 'CRL revokes the certificate').then((out) => expect(out).toMatch(/certificate revoked/));
  });

  it('an issuance that cannot succeed fails the request once, audited, with no retries', async () => {
    // The key was removed between the request and its approval: nothing to certify.
    const key = await app.ctx.keyService.register('UDAVE', sshPub, 'slack');
    const submitted = await app.ctx.service.submit('UDAVE', { resource: 'box', reason: 'test', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
    await app.ctx.keyService.remove('UDAVE', key.fingerprint, 'slack');
    await app.ctx.service.review(submitted.request.id, 'ULEAD', 'approve', 'slack');
    const failed = await eventually(async () => {
      const r = await app.ctx.store.get(submitted.request.id);
      return r?.state === 'failed' ? r : undefined;
    });
    expect(failed.failure).toMatch(/is no longer registered/);
    expect((await auditOf(submitted.request.id)).filter((e) => e.type === 'request.failed')).toHaveLength(1);
    const job = await app.ctx.certificatesQueue.getJob(`issue-${submitted.request.id}`);
    expect(job?.attemptsMade).toBe(1);
  });

  it('the issuance job sleeps until the expiry warning, warns, sleeps until the end, and expires the grant', async () => {
    const approved = await approvedRequest('box', sshPub, 'UERIN');
    const grant = await issued(approved.id);
    const job = await eventually(async () => {
      const j = await app.ctx.certificatesQueue.getJob(`issue-${approved.id}`);
      return (await j?.isDelayed()) ? j : undefined;
    }, 10_000, 'issuance job delayed until the warning');
    // The engine never grants under a minute: shorten the stored window, then wake the job now.
    const end = Date.now() + 4000;
    const shortened = { ...grant, expiresAt: end, certificate: { ...grant.certificate!, validBefore: end } };
    expect((await app.ctx.store.commit(grant, shortened, [], Date.now())).ok).toBe(true);
    await job.promote();
    const expired = await eventually(async () => {
      const r = await app.ctx.store.get(approved.id);
      return r?.state === 'expired' ? r : undefined;
    }, 15_000, 'grant expired');
    expect(expired.closedBy).toBe('system');
    const events = await auditOf(approved.id);
    const at = (type: string) => Date.parse(events.find((e) => e.type === type)!.at);
    expect(events.map((e) => e.type).slice(-3)).toEqual(['cert.issued', 'request.expiring', 'request.expired']);
    expect(at('request.expiring')).toBeGreaterThanOrEqual(end - 2000 - 100);
    expect(at('request.expired')).toBeGreaterThanOrEqual(end - 100);
    expect(await (await app.ctx.certificatesQueue.getJob(`issue-${approved.id}`))?.isCompleted()).toBe(true);
  });
});

describe('extensions (issue 7 item 1: revoking a grant left its extension alive)', () => {
  it('the extension\'s certificate starts where the grant ends, and revoking the grant puts both certificates in the KRL', async () => {
    const grant = await issued((await approvedRequest('box', sshPub, 'UMALLORY')).id);
    const ext = await app.ctx.service.submit('UMALLORY', { resource: 'box', reason: 'more time', via: 'slack', extensionOf: grant.id, durationMs: 3_600_000 });
    if (ext.status !== 'ok') throw new Error(JSON.stringify(ext));
    const approvedExt = await app.ctx.service.review(ext.request.id, 'ULEAD', 'approve', 'slack');
    if (approvedExt.status !== 'ok') throw new Error(JSON.stringify(approvedExt));
    const extension = await issued(ext.request.id);
    // Not valid while the grant's certificate is: it starts exactly at the grant's end.
    expect(extension.certificate!.validAfter).toBe(grant.certificate!.validBefore);
    const certFile = join(tmp, 'ext-cert.pub');
    writeFileSync(certFile, extension.certificate!.text);
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    expect(execFileSync('ssh-keygen', ['-L', '-f', certFile], { env: { ...process.env, TZ: 'UTC' } }).toString()).toContain(
      `Valid: from ${fmt(grant.certificate!.validBefore)} to ${fmt(extension.certificate!.validBefore)}`,
    );

    expect((await app.ctx.service.revoke(grant.id, 'UMALLORY', 'slack', 'done early')).status).toBe('ok');
    const revokedExt = await eventually(async () => {
      const r = await app.ctx.store.get(extension.id);
      return r?.state === 'revoked' ? r : undefined;
    }, 10_000, 'the extension revoked with its grant');
    expect(revokedExt.closeReason).toMatch(new RegExp(`the access it extends \\(${grant.id}\\) was revoked`));
    const grantCert = join(tmp, 'grant-cert.pub');
    writeFileSync(grantCert, grant.certificate!.text);
    const krlFile = join(tmp, 'ext.krl');
    await eventually(async () => {
      writeFileSync(krlFile, Buffer.from(await (await get('/ca/revoked.krl')).arrayBuffer()));
      const out = spawnSync('ssh-keygen', ['-Q', '-f', krlFile, grantCert, certFile]).stdout.toString();
      return (out.match(/REVOKED/g) ?? []).length === 2 ? out : undefined;
    }, 10_000, 'both serials in the KRL');
    expect((await auditOf(extension.id)).find((e) => e.type === 'request.revoked')?.data).toMatchObject({ cause: 'parent_closed', parent: grant.id });
  });
});

describe('reconciler', () => {
  /** An approval committed with its review, as if the process then died before enqueuing issuance. */
  async function approvedWithoutEnqueue(user: string, approvedAt: number): Promise<AccessRequest> {
    await app.ctx.keyService.register(user, sshPub, 'slack');
    const submitted = await app.ctx.service.submit(user, { resource: 'box', reason: 'test', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
    const pending = submitted.request;
    const approved: AccessRequest = {
      ...pending,
      createdAt: approvedAt - 1000,
      stageStartedAt: approvedAt - 1000,
      state: 'approved',
      reviews: [{ stage: 0, by: 'ULEAD', decision: 'approve', via: 'slack', at: approvedAt }],
      approvedAt,
      startsAt: approvedAt,
      expiresAt: approvedAt + 3_600_000,
      approvers: [],
    };
    const committed = await app.ctx.store.commit(pending, approved, [], Date.now());
    if (!committed.ok) throw new Error('commit');
    return committed.request;
  }

  it('issues an approved request whose enqueue was lost in a crash', async () => {
    const approved = await approvedWithoutEnqueue('UFRANK', Date.now() - 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await app.ctx.store.get(approved.id))?.state).toBe('approved');
    const report = await worker.reconciler.run();
    expect(report.issuanceEnqueued).toBeGreaterThanOrEqual(1);
    // A fresh approval is left alone: its job is on the way (here: deliberately never enqueued).
    const fresh = await approvedWithoutEnqueue('UGRACE', Date.now());
    expect((await worker.reconciler.run()).issuanceEnqueued).toBe(0);
    expect(await app.ctx.certificatesQueue.getJob(`issue-${fresh.id}`)).toBeUndefined();
    expect((await issued(approved.id)).certificate?.kind).toBe('ssh');
  });
});

describe('the worker signs only what its own policy allows (a record edited in Redis mints nothing)', () => {
  /** Writes a record straight into Redis, as someone with Redis access (and no CA keys) could. */
  async function forge(user: string, edit: (r: AccessRequest) => AccessRequest): Promise<AccessRequest> {
    await app.ctx.keyService.register(user, sshPub, 'slack');
    const submitted = await app.ctx.service.submit(user, { resource: 'box', reason: 'test', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
    const now = Date.now();
    const forged = edit({ ...submitted.request, state: 'approved', approvedAt: now, startsAt: now, expiresAt: now + 3_600_000, approvers: [] });
    const committed = await app.ctx.store.commit(submitted.request, forged, [], now);
    if (!committed.ok) throw new Error('commit');
    await app.ctx.scheduler.enqueueIssuance(committed.request);
    return eventually(async () => {
      const r = await app.ctx.store.get(committed.request.id);
      return r?.state === 'failed' || r?.state === 'issued' ? r : undefined;
    }, 10_000, 'the worker decided');
  }

  it.each([
    ['marked approved with no review at all', 'UHEIDI', (r: AccessRequest) => r, /stage 1 \("lead"\) has 0 of 1 approvals/],
    ['approved by someone who is not an approver', 'UIVAN', (r: AccessRequest) => ({ ...r, reviews: [{ stage: 0, by: 'UBOB', decision: 'approve' as const, via: 'slack' as const, at: Date.now() }] }), /UBOB is not an approver/],
    ['marked admin-issued by cli:root, without the CA directory', 'UJUDY', (r: AccessRequest) => ({ ...r, adminIssued: { by: 'cli:root' } }), /admin-issued without a valid attestation/],
    [
      'approved properly, with the principals edited to root',
      'UKARL',
      (r: AccessRequest) => ({ ...r, subject: { kind: 'ssh' as const, principals: ['root'] }, reviews: [{ stage: 0, by: 'ULEAD', decision: 'approve' as const, via: 'slack' as const, at: Date.now() }] }),
      /approvers were shown root, but the identity rules give karl, deploy/,
    ],
  ])('refuses a record %s, audited as cert.refused', async (_name, user, edit, reason) => {
    const serialBefore = await app.ctx.redis.get(app.ctx.keys.serialCounter);
    const decided = await forge(user, edit);
    expect(decided.state).toBe('failed');
    expect(decided.certificate).toBeUndefined();
    expect(decided.failure).toMatch(reason);
    expect(await app.ctx.redis.get(app.ctx.keys.serialCounter)).toBe(serialBefore);
    const refused = (await auditOf(decided.id)).filter((e) => e.type === 'cert.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.data.reason).toMatch(reason);
  });
});

describe('public CA endpoints', () => {
  it('serve every trusted CA key, the chain, the KRL and the CRL with the right types', async () => {
    const pub = await get('/ca/ssh_user_ca.pub');
    expect(pub.status).toBe(200);
    expect(pub.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await pub.text()).toMatch(/^ssh-ed25519 AAAA\S+ access-bot user CA\n$/);
    expect((await get('/ca/x509_ca.pem')).headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const krl = Buffer.from(await (await get('/ca/revoked.krl')).arrayBuffer());
    expect(krl.subarray(0, 8).toString('latin1')).toBe('SSHKRL\n\0');
    expect(await (await get('/ca/x509.crl')).text()).toMatch(/^-----BEGIN X509 CRL-----/);
  });
});
