import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SshKeyDegenerateError,
  SshKeyInputTooLargeError,
  SshKeyIsCertificateError,
  SshKeyMalformedError,
  SshKeyTooWeakError,
  SshKeyTypeMismatchError,
  SshKeyTypeUnsupportedError,
  SshPrivateKeySubmittedError,
  SshPublicKeyRejectedError,
} from '../../../src/ca/ssh/errors';
import { parseSshPublicKey, sshPublicKeyFromBlob, sshPublicKeyFromKeyObject, sshPublicKeyLine } from '../../../src/ca/ssh/ssh-public-key';
import { SshWireWriter } from '../../../src/ca/ssh/ssh-wire';
import { DEGENERATE_ED25519_KEYS, ed25519Blob, ed25519Line } from '../degenerate-ed25519-keys';
import {
  generateUserKey,
  makeTempDir,
  runTool,
  sshKeygenFingerprint,
  USER_KEY_KINDS,
  writeText,
  type GeneratedUserKey,
} from './openssh-tools';

let dir: string;
const keys = new Map<string, GeneratedUserKey>();

beforeAll(async () => {
  dir = await makeTempDir('access-bot-ssh-pubkey-');
  for (const key of await Promise.all(USER_KEY_KINDS.map((kind) => generateUserKey(dir, kind)))) keys.set(key.kind.label, key);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function rejection(text: string): SshPublicKeyRejectedError {
  try {
    parseSshPublicKey(text);
  } catch (error) {
    if (error instanceof SshPublicKeyRejectedError) return error;
    throw error;
  }
  throw new Error('the key was accepted');
}

describe('parseSshPublicKey accepts keys made by ssh-keygen', () => {
  it.each(USER_KEY_KINDS.map((kind) => [kind.label]))('%s: type, bits, comment and fingerprint match ssh-keygen -lf', async (label) => {
    const key = keys.get(label) as GeneratedUserKey;
    const parsed = parseSshPublicKey(key.publicKeyLine);
    const reference = await sshKeygenFingerprint(key.publicKeyPath);

    expect(parsed.fingerprint).toBe(reference.fingerprint);
    expect(parsed.bits).toBe(reference.bits);
    expect(parsed.comment).toBe(`${label}@laptop`);
    expect(parsed.type).toBe(key.publicKeyLine.split(' ')[0]);
    expect(sshPublicKeyLine(parsed)).toBe(key.publicKeyLine);
    expect(parsed.keyObject.type).toBe('public');
  });

  it('tolerates surrounding whitespace, a trailing newline and a missing comment', () => {
    const key = keys.get('ed25519') as GeneratedUserKey;
    const [type, base64] = key.publicKeyLine.split(' ');
    const parsed = parseSshPublicKey(`\n  ${type}   ${base64}  \r\n`);
    expect(parsed.comment).toBeUndefined();
    expect(parsed.fingerprint).toBe(parseSshPublicKey(key.publicKeyLine).fingerprint);
  });
});

describe('parseSshPublicKey rejects with a reason', () => {
  it('rejects corrupt base64 and truncated key data', () => {
    const [type, base64] = (keys.get('ed25519') as GeneratedUserKey).publicKeyLine.split(' ') as [string, string];
    expect(rejection(`${type} ${base64.slice(0, -5)}*abc`)).toBeInstanceOf(SshKeyMalformedError);

    const truncated = Buffer.from(base64, 'base64').subarray(0, 30).toString('base64');
    const error = rejection(`${type} ${truncated}`);
    expect(error).toBeInstanceOf(SshKeyMalformedError);
    expect(error.code).toBe('SSH_KEY_MALFORMED');
    expect(error.message).toMatch(/corrupt/);

    const trailing = Buffer.concat([Buffer.from(base64, 'base64'), Buffer.from([0, 0, 0, 0])]).toString('base64');
    expect(rejection(`${type} ${trailing}`).message).toMatch(/trailing/);
  });

  it('rejects a line whose type name does not match the key data', () => {
    const ed25519Data = (keys.get('ed25519') as GeneratedUserKey).publicKeyLine.split(' ')[1];
    const error = rejection(`ssh-rsa ${ed25519Data} edited`);
    expect(error).toBeInstanceOf(SshKeyTypeMismatchError);
    expect(error.message).toContain('ssh-ed25519');
  });

  it('rejects DSA keys', async () => {
    const dsa = await generateUserKey(dir, { label: 'dsa', type: 'dsa' });
    const error = rejection(dsa.publicKeyLine);
    expect(error).toBeInstanceOf(SshKeyTypeUnsupportedError);
    expect(error.message).toMatch(/DSA/);
  });

  it('rejects security-key (sk-) keys as not supported yet', () => {
    const blob = new SshWireWriter()
      .string('sk-ssh-ed25519@openssh.com')
      .string(Buffer.alloc(32, 7))
      .string('ssh:')
      .toBuffer();
    const error = rejection(`sk-ssh-ed25519@openssh.com ${blob.toString('base64')} me@yubikey`);
    expect(error).toBeInstanceOf(SshKeyTypeUnsupportedError);
    expect(error.message).toMatch(/not supported yet/);
  });

  it('rejects a certificate pasted instead of a key', async () => {
    const ca = await generateUserKey(dir, { label: 'some-ca', type: 'ed25519' });
    const user = keys.get('ecdsa-256') as GeneratedUserKey;
    const signed = await runTool('ssh-keygen', ['-q', '-s', ca.privateKeyPath, '-I', 'x', '-n', 'alice', user.publicKeyPath]);
    expect(signed.code).toBe(0);
    const certificate = await readFile(user.publicKeyPath.replace(/\.pub$/, '-cert.pub'), 'utf8');
    const error = rejection(certificate);
    expect(error).toBeInstanceOf(SshKeyIsCertificateError);
    expect(error.code).toBe('SSH_KEY_IS_CERTIFICATE');
  });

  it('rejects RSA keys under 2048 bits, naming the size', async () => {
    const weak = await generateUserKey(dir, { label: 'rsa-1024', type: 'rsa', bits: 1024 });
    const error = rejection(weak.publicKeyLine);
    expect(error).toBeInstanceOf(SshKeyTooWeakError);
    expect(error.message).toMatch(/1024 bits.*2048/);
  });

  it('says loudly that a private key was pasted, without repeating any of it', async () => {
    const openssh = await readFile((keys.get('ed25519') as GeneratedUserKey).privateKeyPath, 'utf8');
    const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    const armourless = openssh.split('\n').slice(1, -2).join('');

    for (const pasted of [openssh, pkcs8, pkcs1, armourless, `my key:\n${openssh}`]) {
      const error = rejection(pasted);
      expect(error).toBeInstanceOf(SshPrivateKeySubmittedError);
      expect(error.message).toMatch(/PRIVATE KEY/);
      expect(error.message).toMatch(/compromised/);
      const body = pasted.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
      for (const line of body) expect(error.message).not.toContain(line.slice(0, 20));
      expect(JSON.stringify(error)).not.toContain(body[0]?.slice(0, 20) ?? '-');
    }
  });

  it('rejects input over 16 KiB', () => {
    const line = (keys.get('ed25519') as GeneratedUserKey).publicKeyLine;
    const error = rejection(`${line} ${'x'.repeat(16 * 1024)}`);
    expect(error).toBeInstanceOf(SshKeyInputTooLargeError);
    expect(error.status).toBe(413);
  });

  it('rejects empty input, several keys at once, and keys in other formats with how to convert them', async () => {
    expect(rejection('   \n')).toBeInstanceOf(SshKeyMalformedError);
    const two = `${(keys.get('ed25519') as GeneratedUserKey).publicKeyLine}\n${(keys.get('rsa-2048') as GeneratedUserKey).publicKeyLine}`;
    expect(rejection(two).message).toMatch(/exactly one/);

    const rfc4716 = await runTool('ssh-keygen', ['-e', '-f', (keys.get('ed25519') as GeneratedUserKey).publicKeyPath]);
    expect(rejection(rfc4716.stdout).message).toMatch(/ssh-keygen -i/);

    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    expect(rejection(pem).message).toMatch(/ssh-keygen -i -m PKCS8/);

    const base64Only = (keys.get('ed25519') as GeneratedUserKey).publicKeyLine.split(' ')[1];
    expect(rejection(`${base64Only} laptop`).message).toMatch(/type is missing/);
    expect(rejection('ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ').message).toMatch(/not an accepted key type/);
  });

  it.each(DEGENERATE_ED25519_KEYS.map((k) => [k.label, k] as const))('rejects the degenerate Ed25519 key %s, in a line and inside a blob', (_label, key) => {
    const error = rejection(ed25519Line(key.hex));
    expect(error).toBeInstanceOf(SshKeyDegenerateError);
    expect(error.code).toBe('SSH_KEY_DEGENERATE');
    expect(() => sshPublicKeyFromBlob(ed25519Blob(key.hex))).toThrow(SshKeyDegenerateError);
  });

  it('rejects an Ed25519 key that is not a point of the curve as corrupt', () => {
    const offCurve = '0200000000000000000000000000000000000000000000000000000000000000'; // no x gives y = 2
    const error = rejection(ed25519Line(offCurve));
    expect(error).toBeInstanceOf(SshKeyMalformedError);
    expect(error.message).toMatch(/not a point of the curve/);
  });

  it('rejects an EC point that is not on the curve', () => {
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
    const blob = new SshWireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(point).toBuffer();
    expect(rejection(`ecdsa-sha2-nistp256 ${blob.toString('base64')}`)).toBeInstanceOf(SshKeyMalformedError);
  });
});

describe('sshPublicKeyFromKeyObject', () => {
  it.each([
    ['ed25519', () => generateKeyPairSync('ed25519')],
    ['ecdsa P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['ecdsa P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['ecdsa P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['rsa 3072', () => generateKeyPairSync('rsa', { modulusLength: 3072 })],
  ])('%s: ssh-keygen reads the line, and our parser agrees with its fingerprint', async (_label, generate) => {
    const { privateKey, publicKey } = generate();
    const line = sshPublicKeyFromKeyObject(privateKey, 'access-bot ssh user ca');
    expect(sshPublicKeyFromKeyObject(publicKey, 'access-bot ssh user ca')).toBe(line);
    const path = await writeText(join(dir, `ca-${_label.replace(/\W/g, '')}.pub`), line);

    const reference = await sshKeygenFingerprint(path);
    expect(reference.line).toContain('access-bot ssh user ca');
    expect(parseSshPublicKey(line).fingerprint).toBe(reference.fingerprint);

    if (publicKey.asymmetricKeyType !== 'ed25519') {
      // ssh-keygen converts the line back to the same SubjectPublicKeyInfo Node started from.
      const pem = await runTool('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', path]);
      expect(pem.stdout.trim()).toBe((publicKey.export({ format: 'pem', type: 'spki' }) as string).trim());
    }
  });
});
