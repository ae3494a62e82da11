import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, loadCa, rotateCa, type CaMaterial } from '../../src/ca/ca-directory';
import { CaPublisher } from '../../src/ca/ca-publisher';
import { x509CaFingerprint } from '../../src/ca/certificate-signer';
import { CaRotationGraceTooShortError } from '../../src/ca/errors/ca-rotation-grace-too-short-error';
import { PublishedCaStore } from '../../src/ca/published-ca-store';
import { signSshUserCertificate } from '../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey } from '../../src/ca/ssh/ssh-public-key';
import { issueX509ClientCertificate } from '../../src/ca/x509/x509-certificate';
import { testRedis } from '../helpers/redis';
import { startTestSshd } from '../helpers/sshd';

/**
 * Issue 7, item 7: a rotation grace shorter than the certificates the old CA signed used to drop
 * that CA's revoked serials from the KRL and its CRL as soon as the grace ended, so a revoked,
 * still-valid certificate checked `ok` on any server still trusting the old CA.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

const t = testRedis('ca-rotation');
const store = new PublishedCaStore(t.redis, t.keys);
const work = mkdtempSync(join(tmpdir(), 'ca-rotation-'));
const dir = join(work, 'ca');
const file = (name: string, content: string | Buffer) => {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
};

afterAll(async () => {
  await t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** A certificate of each kind from generation 1, both revoked; then a rotation with a 5 s grace. */
function scenario() {
  // Real time, so ssh-keygen, openssl and sshd see the certificates as valid right now.
  const now = Date.now();
  const t0 = now - 2 * 60 * MINUTE;
  const gen1 = initCa(dir, { now: t0 - DAY });

  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', join(work, 'id')]);
  const ssh = signSshUserCertificate({
    publicKey: parseSshPublicKey(readFileSync(join(work, 'id.pub'), 'utf8')),
    ca: { privateKey: gen1.ssh.privateKey, publicKey: gen1.ssh.publicKey },
    serial: 41n,
    keyId: 'revoked before the rotation',
    principals: ['accessbot-test'],
    validAfter: t0 - MINUTE,
    validBefore: t0 + DAY,
    extensions: [],
  });
  const x509 = issueX509ClientCertificate({
    ca: { privateKey: gen1.x509.privateKey, certificatePem: gen1.x509.certificatePem },
    subjectPublicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
    commonName: 'alice',
    organizations: ['developers'],
    validFrom: t0 - MINUTE,
    validTo: t0 + DAY,
  });
  return { now, t0, gen1, ssh, x509 };
}

const s = scenario();

beforeAll(async () => {
  await store.addRevoked({ kind: 'ssh', caFingerprint: s.ssh.caFingerprint, serial: s.ssh.serial.toString() }, s.t0 + MINUTE);
  await store.addRevoked({ kind: 'x509', caFingerprint: x509CaFingerprint(s.gen1.x509), serial: s.x509.serialHex }, s.t0 + MINUTE);
});

describe('a retired CA keeps its revocations listed until its certificates have expired', () => {
  it('refuses a grace shorter than the longest certificate, naming the minimum, and changes nothing', () => {
    const before = readFileSync(join(dir, 'ssh_user_ca'));
    expect(() => rotateCa(dir, 5_000, { now: s.t0 + 2 * MINUTE, longestCertificateMs: DAY })).toThrow(CaRotationGraceTooShortError);
    expect(() => rotateCa(dir, 5_000, { now: s.t0 + 2 * MINUTE, longestCertificateMs: DAY })).toThrow(/--grace 1d or longer/);
    expect(readFileSync(join(dir, 'ssh_user_ca'))).toEqual(before);
    expect(existsSync(join(dir, 'previous'))).toBe(false);
  });

  let published: Awaited<ReturnType<CaPublisher['publish']>>;
  let after: CaMaterial;

  it('after a 5 s grace (explicitly allowed) has passed, the old CA is no longer trusted but its revocations are published', async () => {
    rotateCa(dir, 5_000, { now: s.t0 + 2 * MINUTE, longestCertificateMs: DAY, allowShortGrace: true });
    // Two hours on: the grace ended long ago, the certificates have most of a day left.
    after = loadCa(dir, s.now);
    published = await new CaPublisher(store, () => s.now).publish(after);
    expect(after.previous).toEqual([]);
    expect(published.sshUserCaKeys).not.toContain(s.gen1.ssh.publicLine);
    expect(published.sshUserCaKeys).toContain(after.ssh.publicLine);
    expect(published.x509CaBundle).not.toContain(s.gen1.x509.certificatePem.trim());
  });

  it('ssh-keygen -Q finds the old CA’s certificate in the KRL', () => {
    const cert = file('id-cert.pub', `${s.ssh.line}\n`);
    const krl = file('revoked.krl', published.krl);
    const check = spawnSync('ssh-keygen', ['-Q', '-f', krl, cert]);
    expect(check.stdout.toString()).toBe(`${cert} (revoked before the rotation): REVOKED\n`);
    expect(spawnSync('ssh-keygen', ['-Q', '-l', '-f', krl]).stdout.toString()).toMatch(
      new RegExp(`# CA key ssh-ed25519 ${s.gen1.ssh.fingerprint.replace(/[+/]/g, '\\$&')}\nserial: 41\n`),
    );
  });

  it('openssl verify -crl_check finds the old CA’s certificate revoked', () => {
    const caFile = file('gen1.pem', s.gen1.x509.certificatePem);
    const result = spawnSync('openssl', ['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', file('ca.crl', published.crl), file('client.pem', s.x509.pem)]);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout.toString()}${result.stderr.toString()}`).toContain('certificate revoked');
  });

  it('a server that still trusts the old CA refuses the revoked certificate', async () => {
    const sshd = await startTestSshd({ trustedCaKeys: [s.gen1.ssh.publicLine], krl: published.krl });
    try {
      const result = await sshd.login({ privateKeyPath: join(work, 'id'), certPath: join(work, 'id-cert.pub'), command: 'id -un' });
      expect(result.ok).toBe(false);
      expect(result.refusal).toMatch(/revoked by file/);
    } finally {
      await sshd.stop();
    }
  });

  it('once every certificate the old CA signed has expired, it leaves the lists and its keys are deleted at the next rotation', async () => {
    const later = s.t0 + 2 * MINUTE + DAY + 1_000;
    expect(loadCa(dir, later).retired).toEqual([]);
    const republished = await new CaPublisher(store, () => later).publish(loadCa(dir, later));
    const listed = spawnSync('ssh-keygen', ['-Q', '-l', '-f', file('later.krl', republished.krl)]).stdout.toString();
    expect(listed).toMatch(/^# KRL version/);
    expect(listed).not.toContain(s.gen1.ssh.fingerprint);
    const oldDir = JSON.parse(readFileSync(join(dir, 'previous.json'), 'utf8')).previous[0].id as string;
    rotateCa(dir, DAY, { now: later, longestCertificateMs: DAY });
    expect(existsSync(join(dir, 'previous', oldDir))).toBe(false);
  });
});
