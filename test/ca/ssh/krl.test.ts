import { generateKeyPairSync } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KrlInputInvalidError } from '../../../src/ca/ssh/errors';
import { buildKrl } from '../../../src/ca/ssh/krl';
import { signSshUserCertificate, type SshCertificateAuthorityKeys } from '../../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey, sshPublicKeyBlob, type SshPublicKey } from '../../../src/ca/ssh/ssh-public-key';
import { generateUserKey, makeTempDir, runTool, writeText } from './openssh-tools';

let dir: string;
let userKey: SshPublicKey;
const previousCa: SshCertificateAuthorityKeys = generateKeyPairSync('ed25519');
const currentCa: SshCertificateAuthorityKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeAll(async () => {
  dir = await makeTempDir('access-bot-krl-');
  userKey = parseSshPublicKey((await generateUserKey(dir, { label: 'ed25519', type: 'ed25519' })).publicKeyLine);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function certificateFile(ca: SshCertificateAuthorityKeys, serial: bigint, name: string): Promise<string> {
  const now = Date.now();
  const certificate = signSshUserCertificate({
    publicKey: userKey,
    ca,
    serial,
    keyId: name,
    principals: ['alice'],
    validAfter: now - 60_000,
    validBefore: now + 3_600_000,
    extensions: ['permit-pty'],
  });
  return writeText(join(dir, `${name}-cert.pub`), certificate.line);
}

/** Asks ssh-keygen -Q which of the certificates the KRL revokes. */
async function revokedBy(krl: Buffer, certificates: Record<string, string>): Promise<Record<string, 'REVOKED' | 'ok'>> {
  const path = join(dir, `krl-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, krl);
  const verdicts: Record<string, 'REVOKED' | 'ok'> = {};
  for (const [name, certificatePath] of Object.entries(certificates)) {
    const result = await runTool('ssh-keygen', ['-Q', '-f', path, certificatePath]);
    expect(result.stderr).not.toMatch(/Unable to load|invalid/i);
    expect(result.stdout).toMatch(/: (REVOKED|ok)$/m);
    verdicts[name] = /: REVOKED$/m.test(result.stdout) ? 'REVOKED' : 'ok';
  }
  return verdicts;
}

describe('buildKrl', () => {
  it('revokes listed serials of two CAs at once (rotation) and nothing else', async () => {
    const certificates: Record<string, string> = {};
    for (const serial of [1n, 5n, 6n, 7n, 8n, 9n, 12n, 13n, 20n]) {
      certificates[`previous-${serial}`] = await certificateFile(previousCa, serial, `previous-${serial}`);
    }
    for (const serial of [5n, 100n, 101n, 18446744073709551615n]) {
      certificates[`current-${serial}`] = await certificateFile(currentCa, serial, `current-${serial}`);
    }

    const krl = buildKrl({
      version: 7n,
      generatedAt: Date.now(),
      comment: 'access-bot',
      sections: [
        // 5..9 is a run (encoded as a range); 1 and 12, 13 are listed.
        { caPublicKeyBlob: sshPublicKeyBlob(previousCa.publicKey), serials: [9n, 1n, 5n, 6n, 7n, 8n, 12n, 13n, 6n] },
        { caPublicKeyBlob: sshPublicKeyBlob(currentCa.publicKey), serials: [100n, 18446744073709551615n] },
      ],
    });

    expect(await revokedBy(krl, certificates)).toEqual({
      'previous-1': 'REVOKED',
      'previous-5': 'REVOKED',
      'previous-6': 'REVOKED',
      'previous-7': 'REVOKED',
      'previous-8': 'REVOKED',
      'previous-9': 'REVOKED',
      'previous-12': 'REVOKED',
      'previous-13': 'REVOKED',
      'previous-20': 'ok',
      // The same serial from another CA is a different certificate.
      'current-5': 'ok',
      'current-100': 'REVOKED',
      'current-101': 'ok',
      'current-18446744073709551615': 'REVOKED',
    });
  });

  it('merges sections that name the same CA', async () => {
    const blob = sshPublicKeyBlob(currentCa.publicKey);
    const krl = buildKrl({
      version: 1n,
      generatedAt: Date.now(),
      sections: [
        { caPublicKeyBlob: blob, serials: [31n] },
        { caPublicKeyBlob: blob, serials: [32n] },
      ],
    });
    const certificates = {
      31: await certificateFile(currentCa, 31n, 'merge-31'),
      32: await certificateFile(currentCa, 32n, 'merge-32'),
      33: await certificateFile(currentCa, 33n, 'merge-33'),
    };
    expect(await revokedBy(krl, certificates)).toEqual({ 31: 'REVOKED', 32: 'REVOKED', 33: 'ok' });
  });

  it('builds a valid empty KRL that revokes nothing', async () => {
    const empty = buildKrl({ version: 0n, generatedAt: Date.now(), sections: [] });
    const withEmptySection = buildKrl({
      version: 1n,
      generatedAt: Date.now(),
      sections: [{ caPublicKeyBlob: sshPublicKeyBlob(previousCa.publicKey), serials: [] }],
    });
    const certificate = await certificateFile(previousCa, 3n, 'empty-3');
    expect(await revokedBy(empty, { 3: certificate })).toEqual({ 3: 'ok' });
    expect(await revokedBy(withEmptySection, { 3: certificate })).toEqual({ 3: 'ok' });

    // ssh-keygen describes it exactly as its own empty KRL, apart from the generation time.
    const reference = join(dir, 'reference.krl');
    expect((await runTool('ssh-keygen', ['-k', '-f', reference])).code).toBe(0);
    const ours = join(dir, 'ours.krl');
    await writeFile(ours, empty);
    const listing = async (path: string) =>
      (await runTool('ssh-keygen', ['-Q', '-l', '-f', path])).stdout.replace(/^# Generated at .*$/m, '');
    expect(await listing(ours)).toBe(await listing(reference));
  });

  it('refuses serial 0 and bad CA keys, which would make sshd refuse every login', () => {
    const blob = sshPublicKeyBlob(previousCa.publicKey);
    expect(() => buildKrl({ version: 1n, generatedAt: 0, sections: [{ caPublicKeyBlob: blob, serials: [0n] }] })).toThrow(KrlInputInvalidError);
    expect(() =>
      buildKrl({ version: 1n, generatedAt: 0, sections: [{ caPublicKeyBlob: Buffer.from('not a key'), serials: [1n] }] }),
    ).toThrow(KrlInputInvalidError);
    expect(() => buildKrl({ version: -1n, generatedAt: 0, sections: [] })).toThrow(KrlInputInvalidError);
  });
});
