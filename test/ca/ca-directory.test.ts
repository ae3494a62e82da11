import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, loadCa, rotateCa } from '../../src/ca/ca-directory';
import { CaAlreadyExistsError } from '../../src/ca/errors/ca-already-exists-error';
import { CaDirectoryPermissionError } from '../../src/ca/errors/ca-directory-permission-error';
import { CaFileOwnerError } from '../../src/ca/errors/ca-file-owner-error';
import { CaFilePermissionError } from '../../src/ca/errors/ca-file-permission-error';
import { CaKeyPermissionError } from '../../src/ca/errors/ca-key-permission-error';
import { CaNotInitializedError } from '../../src/ca/errors/ca-not-initialized-error';
import { runCli } from '../helpers/cli';

const DAY = 86_400_000;
const fresh = () => join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca');

describe('CA directory', () => {
  it('creates an Ed25519 SSH CA and an RSA-2048 X.509 CA with private keys mode 0600', () => {
    const dir = fresh();
    const ca = initCa(dir);
    expect(statSync(join(dir, 'ssh_user_ca')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'x509_ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(ca.ssh.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(ca.x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    // ssh-keygen agrees on the public key and its fingerprint.
    const printed = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'ssh_user_ca.pub')]).toString();
    expect(printed).toContain(ca.ssh.fingerprint);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'x509_ca.pem')]).toString();
    expect(text).toMatch(/CA:TRUE/);
  });

  it('refuses to overwrite an existing CA', () => {
    const dir = fresh();
    initCa(dir);
    const before = readFileSync(join(dir, 'ssh_user_ca'));
    expect(() => initCa(dir)).toThrow(CaAlreadyExistsError);
    expect(readFileSync(join(dir, 'ssh_user_ca'))).toEqual(before);
  });

  it.each([
    ['group-readable', 0o640],
    ['world-readable', 0o604],
  ])('refuses a %s CA private key and says how to fix it', (_n, mode) => {
    const dir = fresh();
    initCa(dir);
    chmodSync(join(dir, 'x509_ca.key'), mode);
    expect(() => loadCa(dir)).toThrow(CaKeyPermissionError);
    expect(() => loadCa(dir)).toThrow(/chmod 600/);
  });

  it('says how to create a CA when there is none', () => {
    expect(() => loadCa(fresh())).toThrow(CaNotInitializedError);
  });

  it('rotation makes a new CA and keeps the previous one trusted for the grace period only', () => {
    const dir = fresh();
    const t0 = Date.now();
    const first = initCa(dir, { now: t0 });
    const second = rotateCa(dir, 7 * DAY, { now: t0 + DAY, longestCertificateMs: DAY });
    expect(second.ssh.fingerprint).not.toBe(first.ssh.fingerprint);
    expect(second.previous.map((p) => p.ssh.fingerprint)).toEqual([first.ssh.fingerprint]);
    expect(second.previous[0]!.trustUntil).toBe(t0 + 8 * DAY);
    expect(loadCa(dir, t0 + 9 * DAY).previous).toEqual([]);
    // A later rotation deletes generations whose grace has ended, private keys included.
    const third = rotateCa(dir, 7 * DAY, { now: t0 + 10 * DAY, longestCertificateMs: DAY });
    expect(third.previous.map((p) => p.ssh.fingerprint)).toEqual([second.ssh.fingerprint]);
    const prevDirs = JSON.parse(readFileSync(join(dir, 'previous.json'), 'utf8')) as { previous: { id: string }[] };
    expect(prevDirs.previous).toHaveLength(1);
    expect(existsSync(join(dir, 'previous', prevDirs.previous[0]!.id, 'ssh_user_ca'))).toBe(true);
  });
});

describe('CA directory ownership and permissions (issue 7)', () => {
  const OTHER_UID = 12345; // a user that is not the one running the tests (root here)

  it.each([
    ['world-writable', 0o777],
    ['group-writable', 0o770],
    ['world-readable', 0o755],
  ])('init into an existing %s directory tightens it to 0700', (_label, mode) => {
    const dir = fresh();
    mkdirSync(dir);
    chmodSync(dir, mode);
    initCa(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(() => loadCa(dir)).not.toThrow();
  });

  it('init refuses a directory owned by someone else, saying what to run, and writes nothing', () => {
    const dir = fresh();
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    chownSync(dir, OTHER_UID, OTHER_UID);
    expect(() => initCa(dir)).toThrow(CaFileOwnerError);
    expect(() => initCa(dir)).toThrow(new RegExp(`owned by uid ${OTHER_UID}.*chown ${process.getuid!()} ${dir}.*chmod 700 ${dir}`, 's'));
    expect(readdirSync(dir)).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  });

  it.each([
    ['world-writable', 0o777, /chmod go-w /],
    ['group-writable', 0o770, /chmod go-w /],
  ])('loadCa refuses a %s CA directory', (_label, mode, fix) => {
    const dir = fresh();
    initCa(dir);
    chmodSync(dir, mode);
    expect(() => loadCa(dir)).toThrow(CaDirectoryPermissionError);
    expect(() => loadCa(dir)).toThrow(fix);
    expect(() => loadCa(dir)).toThrow(new RegExp(`${dir} is writable by`));
  });

  it('loadCa refuses a CA directory owned by another user', () => {
    const dir = fresh();
    initCa(dir);
    chownSync(dir, OTHER_UID, 0);
    expect(() => loadCa(dir)).toThrow(CaFileOwnerError);
    expect(() => loadCa(dir)).toThrow(new RegExp(`${dir} is owned by uid ${OTHER_UID}`));
  });

  it.each(['ssh_user_ca', 'x509_ca.key'])('loadCa refuses the private key %s when another user owns it, even at mode 0600', (name) => {
    const dir = fresh();
    initCa(dir);
    chownSync(join(dir, name), OTHER_UID, OTHER_UID);
    expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    expect(() => loadCa(dir)).toThrow(CaFileOwnerError);
    expect(() => loadCa(dir)).toThrow(/treat the CA as compromised/);
  });

  it('loadCa refuses a CA certificate others can replace (it would be published as trusted)', () => {
    const dir = fresh();
    initCa(dir);
    chmodSync(join(dir, 'x509_ca.pem'), 0o666);
    expect(() => loadCa(dir)).toThrow(CaFilePermissionError);
    expect(() => loadCa(dir)).toThrow(new RegExp(`chmod go-w ${join(dir, 'x509_ca.pem')}`));
  });

  it('loadCa checks the rotated-out generations and the trust file too', () => {
    const dir = fresh();
    initCa(dir);
    rotateCa(dir, DAY, { longestCertificateMs: DAY });
    expect(loadCa(dir).previous).toHaveLength(1);
    chmodSync(join(dir, 'previous.json'), 0o646);
    expect(() => loadCa(dir)).toThrow(CaFilePermissionError);
    chmodSync(join(dir, 'previous.json'), 0o644);
    const [generation] = readdirSync(join(dir, 'previous'));
    chownSync(join(dir, 'previous', generation!, 'x509_ca.key'), OTHER_UID, OTHER_UID);
    expect(() => loadCa(dir)).toThrow(CaFileOwnerError);
  });
});

describe('access-bot ca', () => {
  const env = { REDIS_URL: 'redis://127.0.0.1:1' }; // unreachable on purpose: ca init works before Redis exists

  it('init prints fingerprints, warns that it could not audit, and refuses a second init', async () => {
    const dir = fresh();
    const r = await runCli(['ca', 'init', '--dir', dir, '--x509-key', 'ecdsa-p256'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SSH user CA: +SHA256:\S+ \(ed25519\)/);
    expect(r.stdout).toMatch(/X\.509 client CA: SHA256:[0-9a-f]{64} \(ec\)/);
    expect(r.stderr).toMatch(/not audited \(Redis unreachable/);
    const again = await runCli(['ca', 'init', '--dir', dir], env);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/CA_EXISTS: A CA already exists/);
  });

  it('rotate tells the operator to reload the workers, and show lists the previous CA', async () => {
    const dir = fresh();
    await runCli(['ca', 'init', '--dir', dir], env);
    const r = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '2d'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SIGHUP/);
    const show = await runCli(['ca', 'show', '--dir', dir], env);
    expect(show.stdout).toMatch(/previous CA trusted until/);
  });

  it('refuses an unknown key type as a usage error', async () => {
    const r = await runCli(['ca', 'init', '--dir', fresh(), '--ssh-key', 'dsa'], env);
    expect(r.code).toBe(2);
  });

  it('show refuses a readable key like the worker does', async () => {
    const dir = fresh();
    initCa(dir);
    chmodSync(join(dir, 'ssh_user_ca'), 0o644);
    const r = await runCli(['ca', 'show', '--dir', dir], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CA_KEY_PERMISSIONS/);
    writeFileSync(join(dir, 'noop'), '');
  });
});
