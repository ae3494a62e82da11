import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { signSshUserCertificate, type SignedSshCertificate } from '../../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey, sshFingerprint, sshPublicKeyFromKeyObject, type SshPublicKey } from '../../../src/ca/ssh/ssh-public-key';
import { startTestSshd, type TestSshd } from '../../helpers/sshd';
import { ed25519Blob, NON_CANONICAL_ENCODINGS, TORSION_POINTS, type DegenerateEd25519Key } from '../degenerate-ed25519-keys';
import { ForgingSshAgent } from './forging-ssh-agent';
import { generateUserKey, makeTempDir, USER_KEY_KINDS, writeText } from './openssh-tools';

/**
 * The threat behind refusing degenerate Ed25519 keys, shown on the real OpenSSH of this machine:
 * a certificate for such a key, read by someone who holds no private key at all, logs in through
 * an agent that answers every sign request with one fixed signature (R = identity, S = 0).
 * The certificates here are signed with the encoder directly: key registration now refuses these
 * keys (test/keys/degenerate-keys.test.ts), so the product itself never issues one.
 */

const ca = generateKeyPairSync('ed25519');
let sshd: TestSshd;
let dir: string;
let serial = 1n;

beforeAll(async () => {
  dir = await makeTempDir('access-bot-forged-');
  sshd = await startTestSshd({ trustedCaKeys: [sshPublicKeyFromKeyObject(ca.publicKey, 'test CA')] });
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Bypasses parseSshPublicKey on purpose: the attacker's key as the encoder would get it from an unchecked registry. */
function uncheckedKey(hex: string): SshPublicKey {
  const blob = ed25519Blob(hex);
  return { type: 'ssh-ed25519', blob, bits: 256, fingerprint: sshFingerprint(blob), keyObject: ca.publicKey };
}

function certify(publicKey: SshPublicKey, keyId: string): SignedSshCertificate {
  const now = Date.now();
  return signSshUserCertificate({
    publicKey,
    ca,
    serial: serial++,
    keyId,
    principals: [sshd.user],
    validAfter: now - 60_000,
    validBefore: now + 3_600_000,
    extensions: ['permit-pty'],
  });
}

/** One `ssh` login whose only identity comes from the agent at SSH_AUTH_SOCK. */
async function loginThroughAgent(agent: ForgingSshAgent, certPath: string): Promise<{ ok: boolean; stdout: string; log: string }> {
  const offset = (await sshd.log()).length;
  const args = [
    '-F', '/dev/null',
    // The certificate file names which agent identity to use; there is no private key file anywhere.
    '-o', 'IdentitiesOnly=yes',
    '-o', `IdentityFile=${certPath}`,
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-p', String(sshd.port),
    '-T', `${sshd.user}@127.0.0.1`, 'id -un',
  ];
  const child = spawn('ssh', args, { env: { ...process.env, SSH_AUTH_SOCK: agent.socketPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { ok: code === 0, stdout, log: (await sshd.log()).slice(offset) };
}

/**
 * The fixed signature verifies when h·A is the identity, h being the hash of the session's data:
 * always for order 1, with probability 1/n for a point of order n (measured on OpenSSH 9.2p1:
 * 24/24, ~1/2, ~1/4, ~1/8). Enough attempts that a real key of order n fails to log in with a
 * chance below one in a million; the attacker simply reconnects.
 */
function attemptsFor(order: DegenerateEd25519Key['order']): number {
  if (order === 'large') throw new Error('no forgery expected for a point of large order');
  return order === 1 ? 1 : Math.ceil(Math.log(1e-6) / Math.log(1 - 1 / order));
}

const ATTACKED: readonly DegenerateEd25519Key[] = [
  ...TORSION_POINTS.filter((k) => k.order === 1 || k.order === 2 || k.label.startsWith('all-zero') || k.label === 'order 8 (a)'),
  ...NON_CANONICAL_ENCODINGS.filter((k) => k.order === 1),
];

describe('OpenSSH accepts a forged signature for a certificate of a degenerate Ed25519 key', () => {
  it.each(ATTACKED.map((k) => [k.label, k] as const))('%s: an agent holding only the certificate logs in', async (_label, key) => {
    const certificate = certify(uncheckedKey(key.hex), `forged ${key.label}`);
    const certPath = await writeText(join(dir, `forged-${certificate.serial}-cert.pub`), certificate.line);
    const agent = await ForgingSshAgent.start(dir, certificate.blob, `agent-${certificate.serial}.sock`);
    try {
      let result = { ok: false, stdout: '', log: '' };
      const attempts = attemptsFor(key.order);
      for (let i = 0; i < attempts && !result.ok; i++) result = await loginThroughAgent(agent, certPath);
      expect(result.ok).toBe(true);
      expect(result.stdout.trim()).toBe(sshd.user);
      expect(result.log).toContain(`Accepted publickey for ${sshd.user}`);
      expect(result.log).toContain(`ID ${certificate.keyId}`);
      expect(agent.signRequests).toBeGreaterThan(0);
    } finally {
      await agent.close();
    }
  }, 90_000);

  it('the same agent cannot log in with a certificate of a real key (the forgery needs the degenerate key)', async () => {
    const real = await generateUserKey(dir, USER_KEY_KINDS[0]!, 'victim@laptop');
    const certificate = certify(parseSshPublicKey(real.publicKeyLine), 'real key, forged signature');
    const certPath = await writeText(join(dir, `real-${certificate.serial}-cert.pub`), certificate.line);
    const agent = await ForgingSshAgent.start(dir, certificate.blob, 'agent-real.sock');
    try {
      const result = await loginThroughAgent(agent, certPath);
      expect(result.ok).toBe(false);
      expect(agent.signRequests).toBe(1);
      expect(result.log).not.toContain('Accepted publickey');
    } finally {
      await agent.close();
    }
  }, 30_000);
});
