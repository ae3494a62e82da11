import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildKrl } from '../../../src/ca/ssh/krl';
import { signSshUserCertificate, type SshCertificateAuthorityKeys, type SshUserCertificateRequest } from '../../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey, sshPublicKeyBlob, sshPublicKeyFromKeyObject } from '../../../src/ca/ssh/ssh-public-key';
import { startTestSshd, type TestSshd } from '../../helpers/sshd';
import { CA_KEY_KINDS, generateUserKey, makeTempDir, USER_KEY_KINDS, writeText, type GeneratedUserKey } from './openssh-tools';

const USER = 'accessbot-test';
let dir: string;
let sshd: TestSshd;
const userKeys = new Map<string, GeneratedUserKey>();
const caKeys = new Map<string, SshCertificateAuthorityKeys>();
let serial = 100n;

beforeAll(async () => {
  dir = await makeTempDir('access-bot-sshd-login-');
  for (const key of await Promise.all(USER_KEY_KINDS.map((kind) => generateUserKey(dir, kind)))) userKeys.set(key.kind.label, key);
  for (const kind of CA_KEY_KINDS) caKeys.set(kind.label, kind.generate());
  // Every CA key is trusted at once, one per line, as GET /ca/ssh_user_ca.pub serves them.
  sshd = await startTestSshd({
    user: USER,
    trustedCaKeys: [...caKeys.values()].map((ca) => sshPublicKeyFromKeyObject(ca.publicKey, 'access-bot')),
  });
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function ed25519Ca(): SshCertificateAuthorityKeys {
  return caKeys.get('ed25519') as SshCertificateAuthorityKeys;
}

async function loginWith(
  userLabel: string,
  ca: SshCertificateAuthorityKeys,
  overrides: Partial<SshUserCertificateRequest> = {},
  command = 'id -un',
) {
  const user = userKeys.get(userLabel) as GeneratedUserKey;
  const now = Date.now();
  const certificate = signSshUserCertificate({
    publicKey: parseSshPublicKey(user.publicKeyLine),
    ca,
    serial: serial++,
    keyId: `login test ${userLabel}`,
    principals: [USER],
    validAfter: now - 60_000,
    validBefore: now + 3_600_000,
    extensions: ['permit-pty'],
    ...overrides,
  });
  const certPath = await writeText(join(dir, `cert-${certificate.serial}-cert.pub`), certificate.line);
  const result = await sshd.login({ privateKeyPath: user.privateKeyPath, certPath, command });
  return { certificate, result };
}

describe('a real sshd trusting the CA', () => {
  // sshd checks the CA's signature and the user key's own signature independently, so every user
  // key type with one CA, and every CA type with two user key types, covers every check it makes.
  const matrix = [
    ...USER_KEY_KINDS.map((user) => [user.label, 'ed25519'] as const),
    ...CA_KEY_KINDS.filter((ca) => ca.label !== 'ed25519').flatMap((ca) => [['ed25519', ca.label] as const, ['rsa-2048', ca.label] as const]),
  ];

  it.each(matrix)('lets in a %s key certified by the %s CA', async (userLabel, caLabel) => {
    const { certificate, result } = await loginWith(userLabel, caKeys.get(caLabel) as SshCertificateAuthorityKeys);
    expect(result.refusal).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.stdout.trim()).toBe(USER);
    expect(result.sshdLog).toContain(`Accepted certificate ID "${certificate.keyId}" (serial ${certificate.serial})`);
    expect(result.sshdLog).toContain(certificate.caFingerprint);
  });

  it('refuses an expired certificate', async () => {
    const now = Date.now();
    const { result } = await loginWith('ed25519', ed25519Ca(), { validAfter: now - 7_200_000, validBefore: now - 3_600_000 });
    expect(result.ok).toBe(false);
    expect(result.refusal).toBe('Certificate invalid: expired');
  });

  it('refuses a certificate that is not yet valid', async () => {
    const now = Date.now();
    const { result } = await loginWith('ed25519', ed25519Ca(), { validAfter: now + 3_600_000, validBefore: now + 7_200_000 });
    expect(result.ok).toBe(false);
    expect(result.refusal).toBe('Certificate invalid: not yet valid');
  });

  it('refuses a certificate for other principals', async () => {
    const { result } = await loginWith('ecdsa-256', ed25519Ca(), { principals: ['root', 'someone-else'] });
    expect(result.ok).toBe(false);
    expect(result.refusal).toBe('Certificate invalid: name is not a listed principal');
  });

  it('refuses a certificate whose source-address excludes the client', async () => {
    const { result } = await loginWith('ed25519', ed25519Ca(), { criticalOptions: { sourceAddress: ['10.0.0.0/8'] } });
    expect(result.ok).toBe(false);
    expect(result.refusal).toMatch(/not from a permitted source address \(127\.0\.0\.1\)/);

    const allowed = await loginWith('ed25519', ed25519Ca(), { criticalOptions: { sourceAddress: ['127.0.0.0/8', '::1'] } });
    expect(allowed.result.ok).toBe(true);
  });

  it('runs the force-command instead of the requested command', async () => {
    const { result } = await loginWith('rsa-2048', caKeys.get('rsa-3072') as SshCertificateAuthorityKeys, {
      criticalOptions: { forceCommand: 'echo forced: "$SSH_ORIGINAL_COMMAND"' },
    });
    expect(result.ok).toBe(true);
    expect(result.stdout.trim()).toBe('forced: id -un');
  });

  it('refuses a certificate once the KRL revokes its serial, without a restart, for either CA', async () => {
    const ecdsaCa = caKeys.get('ecdsa-p256') as SshCertificateAuthorityKeys;
    const first = await loginWith('ed25519', ed25519Ca());
    const second = await loginWith('ed25519', ecdsaCa);
    expect(first.result.ok && second.result.ok).toBe(true);

    await sshd.writeKrl(
      buildKrl({
        version: 2n,
        generatedAt: Date.now(),
        sections: [
          { caPublicKeyBlob: sshPublicKeyBlob(ed25519Ca().publicKey), serials: [first.certificate.serial] },
          { caPublicKeyBlob: sshPublicKeyBlob(ecdsaCa.publicKey), serials: [second.certificate.serial] },
        ],
      }),
    );
    try {
      const user = userKeys.get('ed25519') as GeneratedUserKey;
      for (const { certificate } of [first, second]) {
        const certPath = join(dir, `cert-${certificate.serial}-cert.pub`);
        const again = await sshd.login({ privateKeyPath: user.privateKeyPath, certPath, command: 'id -un' });
        expect(again.ok).toBe(false);
        expect(again.refusal).toMatch(/^Authentication key ED25519-CERT \S+ revoked by file /);
      }
      // Serials that are not listed still log in.
      expect((await loginWith('ed25519', ed25519Ca())).result.ok).toBe(true);
    } finally {
      await sshd.writeKrl(buildKrl({ version: 3n, generatedAt: Date.now(), sections: [] }));
    }
  });

  it('refuses everyone while the KRL file is missing (fails closed)', async () => {
    await sshd.removeKrl();
    try {
      const { result } = await loginWith('ed25519', ed25519Ca());
      expect(result.ok).toBe(false);
      expect(result.refusal).toMatch(/^Error checking authentication key .* in revoked keys file .*: No such file or directory$/);
    } finally {
      await sshd.writeKrl(buildKrl({ version: 4n, generatedAt: Date.now(), sections: [] }));
    }
    expect((await loginWith('ed25519', ed25519Ca())).result.ok).toBe(true);
  });

  it('(measured) an empty RevokedKeys file revokes nothing (fails open); a file that is not a KRL refuses everyone', async () => {
    const revoked = await loginWith('ed25519', ed25519Ca());
    await sshd.writeKrl(
      buildKrl({
        version: 5n,
        generatedAt: Date.now(),
        sections: [{ caPublicKeyBlob: sshPublicKeyBlob(ed25519Ca().publicKey), serials: [revoked.certificate.serial] }],
      }),
    );
    const user = userKeys.get('ed25519') as GeneratedUserKey;
    const certPath = join(dir, `cert-${revoked.certificate.serial}-cert.pub`);
    const login = () => sshd.login({ privateKeyPath: user.privateKeyPath, certPath, command: 'true' });
    try {
      expect((await login()).ok).toBe(false);
      // sshd reads a file without the KRL magic as a list of plain keys: an empty one lists none.
      await sshd.writeKrl(Buffer.alloc(0));
      expect((await login()).ok).toBe(true);
      // What a careless refresh job installs when the server answers with an error page:
      await sshd.writeKrl(Buffer.from('<html><body>502 Bad Gateway</body></html>\n'));
      const refused = await login();
      expect(refused.ok).toBe(false);
      expect(refused.refusal).toMatch(/^Error checking authentication key .* in revoked keys file .*: invalid format$/);
    } finally {
      await sshd.writeKrl(buildKrl({ version: 6n, generatedAt: Date.now(), sections: [] }));
    }
  });

  it('stops trusting a CA removed from TrustedUserCAKeys', async () => {
    const rsaCa = caKeys.get('rsa-3072') as SshCertificateAuthorityKeys;
    await sshd.writeTrustedCaKeys([sshPublicKeyFromKeyObject(ed25519Ca().publicKey)]);
    try {
      const { result } = await loginWith('ed25519', rsaCa);
      expect(result.ok).toBe(false);
      expect((await loginWith('ed25519', ed25519Ca())).result.ok).toBe(true);
    } finally {
      await sshd.writeTrustedCaKeys([...caKeys.values()].map((ca) => sshPublicKeyFromKeyObject(ca.publicKey)));
    }
  });
});

describe('a real sshd with AuthorizedPrincipalsFile', () => {
  let withPrincipals: TestSshd;

  beforeAll(async () => {
    withPrincipals = await startTestSshd({
      user: USER,
      trustedCaKeys: [sshPublicKeyFromKeyObject(ed25519Ca().publicKey)],
      authorizedPrincipals: { [USER]: ['db-admins', 'oncall'] },
    });
  });

  afterAll(async () => {
    await withPrincipals?.stop();
  });

  it('lets in a certificate carrying a role principal listed for the account, and refuses the account name alone', async () => {
    const user = userKeys.get('ed25519') as GeneratedUserKey;
    const now = Date.now();
    const sign = (principals: string[]) =>
      signSshUserCertificate({
        publicKey: parseSshPublicKey(user.publicKeyLine),
        ca: ed25519Ca(),
        serial: serial++,
        keyId: `principals ${principals.join(',')}`,
        principals,
        validAfter: now - 60_000,
        validBefore: now + 3_600_000,
        extensions: [],
      });
    const role = await writeText(join(dir, 'role-cert.pub'), sign(['db-admins']).line);
    const name = await writeText(join(dir, 'name-cert.pub'), sign([USER]).line);

    const allowed = await withPrincipals.login({ privateKeyPath: user.privateKeyPath, certPath: role, command: 'id -un' });
    expect(allowed.ok).toBe(true);
    expect(allowed.stdout.trim()).toBe(USER);

    const refused = await withPrincipals.login({ privateKeyPath: user.privateKeyPath, certPath: name, command: 'id -un' });
    expect(refused.ok).toBe(false);
    expect(refused.sshdLog).toMatch(/Certificate does not contain an authorized principal/);
  });
});
