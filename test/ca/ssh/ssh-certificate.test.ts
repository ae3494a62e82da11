import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SshCaKeyUnsupportedError, SshCertificateInvalidError, SshCertificateRequestInvalidError } from '../../../src/ca/ssh/errors';
import {
  parseSshCertificate,
  signSshUserCertificate,
  type SshCertificateAuthorityKeys,
  type SshUserCertificateRequest,
} from '../../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey, sshPublicKeyFromKeyObject } from '../../../src/ca/ssh/ssh-public-key';
import {
  CA_KEY_KINDS,
  generateUserKey,
  makeTempDir,
  parseSshKeygenListing,
  runTool,
  sshKeygenFingerprint,
  USER_KEY_KINDS,
  writeText,
  type GeneratedUserKey,
} from './openssh-tools';

let dir: string;
const userKeys = new Map<string, GeneratedUserKey>();
const caKeys = new Map<string, SshCertificateAuthorityKeys>();

beforeAll(async () => {
  dir = await makeTempDir('access-bot-ssh-cert-');
  for (const key of await Promise.all(USER_KEY_KINDS.map((kind) => generateUserKey(dir, kind)))) userKeys.set(key.kind.label, key);
  for (const kind of CA_KEY_KINDS) caKeys.set(kind.label, kind.generate());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function request(user: GeneratedUserKey, ca: SshCertificateAuthorityKeys, overrides: Partial<SshUserCertificateRequest> = {}): SshUserCertificateRequest {
  return {
    publicKey: parseSshPublicKey(user.publicKeyLine),
    ca,
    serial: 4242n,
    keyId: 'req_01HZX3 approved-by U012ABCDEF,U034GHIJKL',
    principals: ['alice', 'deploy'],
    validAfter: Date.UTC(2030, 0, 2, 3, 4, 5, 678),
    validBefore: Date.UTC(2030, 0, 2, 7, 4, 5, 999),
    criticalOptions: { sourceAddress: ['10.0.0.0/8', '192.168.1.7'], forceCommand: '/usr/bin/psql -h db1' },
    extensions: ['permit-pty', 'permit-agent-forwarding', 'permit-X11-forwarding', 'permit-port-forwarding'],
    ...overrides,
  };
}

/** ssh-keygen prints validity in local time; TZ=UTC makes it comparable. */
async function sshKeygenList(line: string, name: string) {
  const path = await writeText(join(dir, `${name}-cert.pub`), line);
  return { path, result: await runTool('ssh-keygen', ['-L', '-f', path], { env: { TZ: 'UTC' } }) };
}

const matrix = USER_KEY_KINDS.flatMap((user) => CA_KEY_KINDS.map((ca) => [user.label, ca.label] as const));

describe('ssh-keygen -L reads our certificates', () => {
  it.each(matrix)('user key %s signed by a %s CA', async (userLabel, caLabel) => {
    const user = userKeys.get(userLabel) as GeneratedUserKey;
    const ca = caKeys.get(caLabel) as SshCertificateAuthorityKeys;
    const caKind = CA_KEY_KINDS.find((kind) => kind.label === caLabel);
    const certificate = signSshUserCertificate(request(user, ca));
    const { result } = await sshKeygenList(certificate.line, `${userLabel}-${caLabel}`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const listing = parseSshKeygenListing(result.stdout);

    const keyType = user.publicKeyLine.split(' ')[0];
    expect(listing.type).toBe(`${keyType}-cert-v01@openssh.com user certificate`);
    expect(certificate.line.startsWith(`${keyType}-cert-v01@openssh.com `)).toBe(true);
    const userFingerprint = (await sshKeygenFingerprint(user.publicKeyPath)).fingerprint;
    expect(listing.publicKey).toMatch(new RegExp(`-CERT ${escape(userFingerprint)}$`));
    expect(certificate.fingerprint).toBe(userFingerprint);

    const caLine = sshPublicKeyFromKeyObject(ca.publicKey);
    const caPath = await writeText(join(dir, `ca-${caLabel}.pub`), caLine);
    const caFingerprint = (await sshKeygenFingerprint(caPath)).fingerprint;
    expect(listing.signingCa).toBe(`${caKind?.sshKeygenName} ${caFingerprint} (using ${caKind?.signatureAlgorithm})`);
    expect(certificate.caFingerprint).toBe(caFingerprint);

    expect(listing.keyId).toBe('"req_01HZX3 approved-by U012ABCDEF,U034GHIJKL"');
    expect(listing.serial).toBe('4242');
    expect(listing.valid).toBe('from 2030-01-02T03:04:05 to 2030-01-02T07:04:05');
    expect(listing.principals).toEqual(['alice', 'deploy']);
    expect(listing.criticalOptions).toEqual(['force-command /usr/bin/psql -h db1', 'source-address 10.0.0.0/8,192.168.1.7']);
    expect(listing.extensions).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty']);
  });

  it.each([
    ['P-384', 'ecdsa-sha2-nistp384'],
    ['P-521', 'ecdsa-sha2-nistp521'],
  ] as const)('also signs with an ECDSA %s CA (%s)', async (namedCurve, algorithm) => {
    const ca = generateKeyPairSync('ec', { namedCurve });
    const certificate = signSshUserCertificate(request(userKeys.get('ed25519') as GeneratedUserKey, ca));
    const { result } = await sshKeygenList(certificate.line, `ca-${namedCurve}`);
    expect(result.code).toBe(0);
    expect(parseSshKeygenListing(result.stdout).signingCa).toBe(`ECDSA ${certificate.caFingerprint} (using ${algorithm})`);
    expect(parseSshCertificate(certificate.line).signatureAlgorithm).toBe(algorithm);
  });

  it('shows no critical options and no extensions when none are given', async () => {
    const certificate = signSshUserCertificate(
      request(userKeys.get('ed25519') as GeneratedUserKey, caKeys.get('ed25519') as SshCertificateAuthorityKeys, {
        criticalOptions: undefined,
        extensions: [],
      }),
    );
    const listing = parseSshKeygenListing((await sshKeygenList(certificate.line, 'bare')).result.stdout);
    expect(listing.criticalOptions).toEqual([]);
    expect(listing.extensions).toEqual([]);
  });

  it('rejects a tampered certificate', async () => {
    const certificate = signSshUserCertificate(request(userKeys.get('ed25519') as GeneratedUserKey, caKeys.get('ed25519') as SshCertificateAuthorityKeys));
    // Widen the principals: "alice" becomes "alicf" inside the signed data.
    const at = certificate.blob.indexOf(Buffer.from('alice'));
    const tampered = Buffer.from(certificate.blob);
    tampered[at + 4] = 'f'.charCodeAt(0);
    const line = `${certificate.certType} ${tampered.toString('base64')} ${certificate.keyId}`;

    const { result } = await sshKeygenList(line, 'tampered');
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('alicf');
    expect(() => parseSshCertificate(line)).toThrow(SshCertificateInvalidError);
    expect(() => parseSshCertificate(line)).toThrow(/signature does not verify/);
  });
});

describe('parseSshCertificate', () => {
  it.each(matrix)('decodes and verifies a %s certificate from a %s CA', (userLabel, caLabel) => {
    const user = userKeys.get(userLabel) as GeneratedUserKey;
    const ca = caKeys.get(caLabel) as SshCertificateAuthorityKeys;
    const signed = signSshUserCertificate(request(user, ca));
    const parsed = parseSshCertificate(signed.line);

    expect(parsed.kind).toBe('user');
    expect(parsed.certType).toBe(signed.certType);
    expect(parsed.serial).toBe(4242n);
    expect(parsed.keyId).toBe(signed.keyId);
    expect(parsed.principals).toEqual(['alice', 'deploy']);
    expect(parsed.validAfter).toBe(Date.UTC(2030, 0, 2, 3, 4, 5));
    expect(parsed.validBefore).toBe(Date.UTC(2030, 0, 2, 7, 4, 5));
    expect(parsed.validAfter).toBe(signed.validAfter);
    expect(parsed.validBefore).toBe(signed.validBefore);
    expect(parsed.criticalOptions).toEqual({ forceCommand: '/usr/bin/psql -h db1', sourceAddress: ['10.0.0.0/8', '192.168.1.7'] });
    expect(parsed.extensions).toEqual(signed.extensions);
    expect(parsed.fingerprint).toBe(parseSshPublicKey(user.publicKeyLine).fingerprint);
    expect(parsed.caFingerprint).toBe(signed.caFingerprint);
    expect(parsed.signatureAlgorithm).toBe(CA_KEY_KINDS.find((kind) => kind.label === caLabel)?.signatureAlgorithm);
    expect(parsed.comment).toBe(signed.keyId);
  });

  it('verifies certificates made by ssh-keygen itself', async () => {
    const ca = await generateUserKey(dir, { label: 'keygen-ca', type: 'ecdsa', bits: 384 });
    const user = userKeys.get('rsa-3072') as GeneratedUserKey;
    const signed = await runTool('ssh-keygen', [
      '-q', '-s', ca.privateKeyPath, '-I', 'made by ssh-keygen', '-n', 'root,bob', '-z', '77',
      '-V', '20300101000000:20300102000000', '-O', 'clear', '-O', 'permit-pty', '-O', 'source-address=10.1.0.0/16',
      user.publicKeyPath,
    ], { env: { TZ: 'UTC' } });
    expect(signed.stderr).toBe('');
    const parsed = parseSshCertificate(await readFile(user.publicKeyPath.replace(/\.pub$/, '-cert.pub'), 'utf8'));
    expect(parsed.keyId).toBe('made by ssh-keygen');
    expect(parsed.serial).toBe(77n);
    expect(parsed.principals).toEqual(['root', 'bob']);
    expect(parsed.validAfter).toBe(Date.UTC(2030, 0, 1));
    expect(parsed.criticalOptions).toEqual({ sourceAddress: ['10.1.0.0/16'] });
    expect(parsed.extensions).toEqual(['permit-pty']);
    expect(parsed.caFingerprint).toBe((await sshKeygenFingerprint(ca.publicKeyPath)).fingerprint);
    expect(parsed.signatureAlgorithm).toBe('ecdsa-sha2-nistp384');
  });

  it('rejects text that is not a certificate', () => {
    const user = userKeys.get('ed25519') as GeneratedUserKey;
    expect(() => parseSshCertificate(user.publicKeyLine)).toThrow(SshCertificateInvalidError);
    const signed = signSshUserCertificate(request(user, caKeys.get('ed25519') as SshCertificateAuthorityKeys));
    const truncated = `${signed.certType} ${signed.blob.subarray(0, 200).toString('base64')}`;
    expect(() => parseSshCertificate(truncated)).toThrow(/corrupt/);
  });
});

describe('signSshUserCertificate refuses requests sshd would reject or that are unsafe', () => {
  const base = () => request(userKeys.get('ed25519') as GeneratedUserKey, caKeys.get('ed25519') as SshCertificateAuthorityKeys);

  it.each<[string, Partial<SshUserCertificateRequest>, RegExp]>([
    ['no principals', { principals: [] }, /at least one principal/],
    ['an empty principal', { principals: [''] }, /principal/],
    ['a principal with a comma', { principals: ['a,b'] }, /principal/],
    ['serial 0', { serial: 0n }, /serial/],
    ['a serial above 2^64-1', { serial: 1n << 64n }, /serial/],
    ['an empty key id', { keyId: '' }, /key id/],
    ['a key id with a newline', { keyId: 'a\nb' }, /control/],
    ['an empty window', { validAfter: 1_000_500, validBefore: 1_000_900 }, /window is empty/],
    ['a window that ends before it starts', { validAfter: 2_000_000, validBefore: 1_000_000 }, /window is empty/],
    ['a bad source address', { criticalOptions: { sourceAddress: ['10.0.0.0/33'] } }, /source-address/],
    ['an empty source-address list', { criticalOptions: { sourceAddress: [] } }, /source-address/],
    ['a force-command with a newline', { criticalOptions: { forceCommand: 'ls\nrm -rf /' } }, /force-command/],
    ['a bad extension name', { extensions: ['permit pty'] }, /extension/],
  ])('refuses %s', (_label, overrides, message) => {
    const attempt = () => signSshUserCertificate({ ...base(), ...overrides });
    expect(attempt).toThrow(SshCertificateRequestInvalidError);
    expect(attempt).toThrow(message);
  });

  it('refuses a CA public key that does not belong to the CA private key', () => {
    const other = generateKeyPairSync('ed25519');
    const attempt = () => signSshUserCertificate({ ...base(), ca: { privateKey: (caKeys.get('ed25519') as SshCertificateAuthorityKeys).privateKey, publicKey: other.publicKey } });
    expect(attempt).toThrow(SshCaKeyUnsupportedError);
  });

  it('refuses a CA key type OpenSSH cannot use', () => {
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    expect(() => signSshUserCertificate({ ...base(), ca: dsa })).toThrow(SshCaKeyUnsupportedError);
  });

  it('uses a fresh nonce each time, so two certificates for the same request differ', () => {
    const first = signSshUserCertificate(base());
    const second = signSshUserCertificate(base());
    expect(first.blob.equals(second.blob)).toBe(false);
    expect(parseSshCertificate(first.line).nonce.equals(parseSshCertificate(second.line).nonce)).toBe(false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
