import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AuditEvent } from '../../src/audit/audit-event';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { KeyRejectedError } from '../../src/keys/errors/key-rejected-error';
import { KeyService } from '../../src/keys/key-service';
import { StaticDirectory } from '../../src/requests/static-directory';
import { RedisKeyRegistry } from '../../src/store/redis-key-registry';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { testRedis } from '../helpers/redis';
import {
  DEGENERATE_ED25519_KEYS,
  ed25519Line,
  ed25519SpkiPem,
  ed25519SshFingerprint,
  ORDINARY_POINT_HEX,
} from '../ca/degenerate-ed25519-keys';

/**
 * `/access key add` (KeyService) must refuse every Ed25519 key a signature can be forged for
 * (test/ca/ssh/degenerate-ed25519-login.test.ts shows OpenSSH accepting the forgery), so no
 * certificate is ever issued for one. Each refusal is audited as `key.refused` and stores nothing.
 */

const USER = 'UMALLORY';
const t = testRedis('degenerate-keys');
const registry = new RedisKeyRegistry(t.redis, t.keys);
const audit = new RedisAuditLog(t.redis, t.keys);
const keys = new KeyService(registry, audit, () => Date.UTC(2030, 0, 1));

afterAll(() => t.cleanup());

async function lastAuditEvent(): Promise<AuditEvent | undefined> {
  let last: AuditEvent | undefined;
  for await (const event of audit.read()) last = event;
  return last;
}

async function refusal(text: string): Promise<KeyRejectedError> {
  const error = await keys.register(USER, text, 'slack').then(
    () => undefined,
    (err: unknown) => err,
  );
  if (error instanceof KeyRejectedError) return error;
  throw new Error(`expected a KeyRejectedError, got ${error === undefined ? 'an accepted key' : String(error)}`);
}

/** A PKCS#10 request for the 32 bytes, "signed" with R = identity, S = 0 (valid for the identity key under a lenient verifier). */
function forgedCsrPem(hex: string): string {
  const der = (tag: number, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([tag, body.length]), body]);
  };
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]);
  const subject = der(0x30, der(0x31, der(0x30, Buffer.from('0603550403', 'hex'), der(0x0c, Buffer.from('eve')))));
  const info = der(0x30, Buffer.from('020100', 'hex'), subject, spki, Buffer.from('a000', 'hex'));
  const signature = Buffer.concat([Buffer.from([0x03, 0x41, 0x00, 0x01]), Buffer.alloc(63)]);
  // Lengths here stay below 128 except the outer sequence, which gets a long-form length.
  const body = Buffer.concat([info, Buffer.from('300506032b6570', 'hex'), signature]);
  const csr = Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${csr.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('/access key add refuses degenerate Ed25519 keys', () => {
  it.each(DEGENERATE_ED25519_KEYS.map((k) => [k.label, k] as const))('SSH key, %s: refused with a reason, audited, not stored', async (_label, key) => {
    const error = await refusal(ed25519Line(key.hex));
    expect(error.reasonCode).toBe('SSH_KEY_DEGENERATE');
    expect(error.status).toBe(422);
    expect(error.message).toMatch(key.kind === 'small-order' ? /forged without the private key/ : /not in canonical form/);
    expect(error.message).toContain('ssh-keygen -t ed25519');
    expect(await registry.list(USER)).toEqual([]);
    expect(await registry.get(USER, ed25519SshFingerprint(key.hex))).toBeUndefined();
    const event = await lastAuditEvent();
    expect(event).toMatchObject({ type: 'key.refused', actor: { id: USER, via: 'slack' }, data: { user: USER, code: 'SSH_KEY_DEGENERATE' } });
  });

  it.each(DEGENERATE_ED25519_KEYS.map((k) => [k.label, k] as const))('X.509 public key, %s: refused with a reason, audited, not stored', async (_label, key) => {
    const error = await refusal(ed25519SpkiPem(key.hex));
    expect(error.reasonCode).toBe('X509_PUBLIC_KEY_DEGENERATE');
    expect(error.message).toMatch(key.kind === 'small-order' ? /forged without the private key/ : /not in canonical form/);
    expect(await registry.list(USER)).toEqual([]);
    expect(await lastAuditEvent()).toMatchObject({ type: 'key.refused', data: { user: USER, code: 'X509_PUBLIC_KEY_DEGENERATE' } });
  });

  it('a CSR for the identity key carrying the forged signature is refused for its key', async () => {
    const error = await refusal(forgedCsrPem(DEGENERATE_ED25519_KEYS[0]!.hex));
    expect(error.reasonCode).toBe('X509_PUBLIC_KEY_DEGENERATE');
    expect(await registry.list(USER)).toEqual([]);
    expect(await lastAuditEvent()).toMatchObject({ type: 'key.refused', data: { code: 'X509_PUBLIC_KEY_DEGENERATE' } });
  });

  it('still accepts real keys and ordinary points', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', join(dir, 'id')]);
      const real = await keys.register('UALICE', readFileSync(join(dir, 'id.pub'), 'utf8'), 'slack');
      expect(real).toMatchObject({ kind: 'ssh', algorithm: 'ssh-ed25519' });
      const ordinary = await keys.register('UALICE', ed25519Line(ORDINARY_POINT_HEX), 'slack');
      expect(ordinary.fingerprint).toBe(ed25519SshFingerprint(ORDINARY_POINT_HEX));
      const x509 = await keys.register('UALICE', ed25519SpkiPem(ORDINARY_POINT_HEX), 'slack');
      expect(x509.kind).toBe('x509');
      expect(await registry.count('UALICE')).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no certificate is issued for a degenerate key registered before this check existed', () => {
  let app: TestApp;
  let worker: WorkerProcess;

  beforeAll(async () => {
    app = await testApp({
      workflows: {
        admins: { users: ['UADMIN'] },
        resources: {
          box: { description: 'test box', workflow: 'auto', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'], extensions: [] } },
        },
        workflows: {
          auto: {
            requesters: { everyone: true },
            auto_approve: [{ requesters: { everyone: true }, max_duration: '2h' }],
            stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }],
          },
        },
      },
      integrations: { directory: new StaticDirectory([{ id: USER, email: 'mallory@example.com', groups: [] }]) },
    });
    worker = await startWorkerProcess(app.ctx);
  });

  afterAll(async () => {
    await worker?.stop();
    await app?.cleanup();
  });

  it('the worker refuses to sign: the request fails and holds no certificate', async () => {
    const identity = DEGENERATE_ED25519_KEYS[0]!.hex;
    // As an older release would have stored it, without the point check.
    await app.ctx.keyRegistry.put(USER, {
      fingerprint: ed25519SshFingerprint(identity),
      kind: 'ssh',
      algorithm: 'ssh-ed25519',
      text: ed25519Line(identity),
      addedAt: Date.now(),
    });
    const submitted = await app.ctx.service.submit(USER, { resource: 'box', reason: 'test', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(JSON.stringify(submitted));
    const failed = await eventually(async () => {
      const r = await app.ctx.store.get(submitted.request.id);
      return r && r.state !== 'approved' ? r : undefined;
    }, 15_000, 'issuance settled');
    expect(failed.state).toBe('failed');
    expect(failed.certificate).toBeUndefined();
    const events: AuditEvent[] = [];
    for await (const e of app.ctx.audit.read()) if (e.requestId === submitted.request.id) events.push(e);
    expect(events.map((e) => e.type)).not.toContain('cert.issued');
    expect(JSON.stringify(events)).toMatch(/forged without the private key/);
  }, 30_000);
});
