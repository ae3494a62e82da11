import { randomBytes } from 'node:crypto';
import { chmod, copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sessionForceCommand } from '../../../src/ca/ssh/session-force-command';
import { signSshUserCertificate, type SshCertificateAuthorityKeys, type SshCriticalOptions } from '../../../src/ca/ssh/ssh-certificate';
import { parseSshPublicKey, sshPublicKeyFromKeyObject } from '../../../src/ca/ssh/ssh-public-key';
import { startTestSshd, type SshLoginResult, type TestSshd } from '../../helpers/sshd';
import { CA_KEY_KINDS, generateUserKey, makeTempDir, runTool, writeText, type GeneratedUserKey } from './openssh-tools';

const USER = 'accessbot-test';
const WRAPPER_SOURCE = resolve(__dirname, '../../../scripts/access-bot-session');

let dir: string;
let wrapperPath: string;
let sshd: TestSshd;
let user: GeneratedUserKey;
const ca: SshCertificateAuthorityKeys = (CA_KEY_KINDS[0] as (typeof CA_KEY_KINDS)[number]).generate();
let serial = 1n;

interface Session {
  token: string;
  result: Promise<SshLoginResult>;
}
const sessions = new Map<string, Session>();

async function certificateFile(validForMs: number, criticalOptions?: (validBefore: number) => SshCriticalOptions): Promise<string> {
  const now = Date.now();
  const validBefore = now + validForMs;
  const certificate = signSshUserCertificate({
    publicKey: parseSshPublicKey(user.publicKeyLine),
    ca,
    serial: serial++,
    keyId: `session test ${serial}`,
    principals: [USER],
    validAfter: now - 60_000,
    validBefore,
    criticalOptions: criticalOptions?.(validBefore),
    extensions: ['permit-pty'],
  });
  return writeText(join(dir, `session-${certificate.serial}-cert.pub`), certificate.line);
}

/** Processes still running (not zombies awaiting their reaper) with the session's marker in their environment. */
async function processesMarkedWith(token: string): Promise<number[]> {
  const entry = `ACCESS_BOT_SESSION_TEST=${token}`;
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const exited = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
      // Whole entries only: SSH_ORIGINAL_COMMAND holds the same text.
      const environment = (await readFile(`/proc/${name}/environ`, 'utf8')).split('\0');
      if (!exited && environment.includes(entry)) found.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

async function eventuallyNoProcessesMarkedWith(token: string): Promise<number[]> {
  let left = await processesMarkedWith(token);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    await new Promise((done) => setTimeout(done, 100));
    left = await processesMarkedWith(token);
  }
  return left;
}

function startSession(name: string, start: (token: string) => Promise<SshLoginResult>): void {
  const token = randomBytes(6).toString('hex');
  const result = start(token);
  result.catch(() => undefined); // awaited by its own test; this only keeps it from being reported early
  sessions.set(name, { token, result });
}

beforeAll(async () => {
  dir = await makeTempDir('access-bot-session-');
  await chmod(dir, 0o755);
  // A copy the test user can reach whatever the checkout's permissions are.
  wrapperPath = join(dir, 'access-bot-session');
  await copyFile(WRAPPER_SOURCE, wrapperPath);
  await chmod(wrapperPath, 0o755);
  user = await generateUserKey(dir, { label: 'ed25519', type: 'ed25519' });
  sshd = await startTestSshd({ user: USER, trustedCaKeys: [sshPublicKeyFromKeyObject(ca.publicKey)] });

  // The sessions run side by side; each test below awaits and checks one of them. The wrapped
  // certificates live 8 s: long enough for a login (and an interactive shell's startup) to get its
  // turn on a loaded machine before the wrapper cuts it.
  const wrapped = await certificateFile(8_000, (validBefore) => ({ forceCommand: sessionForceCommand(wrapperPath, validBefore) }));
  startSession('wrapped command', (token) =>
    sshd.login({
      privateKeyPath: user.privateKeyPath,
      certPath: wrapped,
      command: `export ACCESS_BOT_SESSION_TEST=${token}; echo started; sleep 30; echo survived`,
    }),
  );
  const wrappedShell = await certificateFile(8_000, (validBefore) => ({ forceCommand: sessionForceCommand(wrapperPath, validBefore) }));
  startSession('wrapped interactive shell', (token) =>
    sshd.login({
      privateKeyPath: user.privateKeyPath,
      certPath: wrappedShell,
      tty: true,
      // The quotes keep the terminal's echo of the typed line from matching the output.
      input: `export ACCESS_BOT_SESSION_TEST=${token}; echo sta''rted; sleep 30; echo sur''vived\n`,
    }),
  );
  // Valid long enough for its login to come out of the queue on a loaded machine; the session then
  // waits until the certificate has expired by the clock, so it outlives it however late it started.
  const plain = await certificateFile(6_000);
  const expiredAfter = Math.ceil((Date.now() + 6_000) / 1000);
  startSession('plain certificate', (token) =>
    sshd.login({
      privateKeyPath: user.privateKeyPath,
      certPath: plain,
      command: `export ACCESS_BOT_SESSION_TEST=${token}; echo started; until [ "$(date +%s)" -gt ${expiredAfter} ]; do sleep 0.2; done; echo survived`,
    }),
  );
});

afterAll(async () => {
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function session(name: string): Session {
  return sessions.get(name) as Session;
}

describe('scripts/access-bot-session as the certificate force-command, through a real sshd', () => {
  it('cuts a command session at the certificate expiry and ends its processes', async () => {
    const { token, result } = session('wrapped command');
    const outcome = await result;
    expect(outcome.stdout).toContain('started');
    expect(outcome.stdout).not.toContain('survived');
    expect(outcome.ok).toBe(false);
    expect(await eventuallyNoProcessesMarkedWith(token)).toEqual([]);
  });

  it('cuts an interactive login shell at expiry, telling the user why', async () => {
    const { token, result } = session('wrapped interactive shell');
    const outcome = await result;
    expect(outcome.stdout).toContain('started');
    expect(outcome.stdout).not.toContain('survived');
    expect(outcome.stdout).toContain('access-bot: your access expired; this session is closing.');
    expect(await eventuallyNoProcessesMarkedWith(token)).toEqual([]);
  });

  it('(measured) a plain certificate does not end a session that outlives it', async () => {
    const outcome = await session('plain certificate').result;
    expect(outcome.ok).toBe(true);
    expect(outcome.stdout).toBe('started\nsurvived\n');
  });

  it("runs the resource's force-command instead of the client's, and passes its exit status through", async () => {
    const certPath = await certificateFile(3_600_000, (validBefore) => ({
      forceCommand: sessionForceCommand(wrapperPath, validBefore, `echo "resource's command got: $SSH_ORIGINAL_COMMAND"; exit 3`),
    }));
    const outcome = await sshd.login({ privateKeyPath: user.privateKeyPath, certPath, command: 'id -un' });
    expect(outcome.stdout).toBe("resource's command got: id -un\n");
    expect(outcome.exitCode).toBe(3);
  });

  it("runs the client's command through the user's shell while access is valid", async () => {
    const certPath = await certificateFile(3_600_000, (validBefore) => ({ forceCommand: sessionForceCommand(wrapperPath, validBefore) }));
    const outcome = await sshd.login({ privateKeyPath: user.privateKeyPath, certPath, command: 'id -un; echo "$0"' });
    expect(outcome.ok).toBe(true);
    expect(outcome.stdout).toBe(`${USER}\n/bin/bash\n`);
  });

  it('refuses to start a session once the expiry has passed, and rejects a malformed expiry', async () => {
    const expired = await runTool('sh', [WRAPPER_SOURCE, String(Math.floor(Date.now() / 1000) - 5)], { env: { SSH_ORIGINAL_COMMAND: 'echo ran' } });
    expect(expired.code).toBe(1);
    expect(expired.stdout).toBe('');
    expect(expired.stderr).toMatch(/access has expired/);

    const malformed = await runTool('sh', [WRAPPER_SOURCE, '12abc'], { env: { SSH_ORIGINAL_COMMAND: 'echo ran' } });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/epoch seconds/);
  });
});

describe('sessionForceCommand', () => {
  it('passes the expiry in whole seconds, as the certificate encodes it, and quotes a resource command', () => {
    expect(sessionForceCommand('/usr/local/bin/access-bot-session', 1_900_000_000_999)).toBe('/usr/local/bin/access-bot-session 1900000000');
    expect(sessionForceCommand('/usr/local/bin/access-bot-session', 1_900_000_000_000, "psql -c 'select 1'")).toBe(
      `/usr/local/bin/access-bot-session 1900000000 'psql -c '\\''select 1'\\'''`,
    );
    expect(() => sessionForceCommand('relative/path', 1)).toThrow(/absolute/);
    expect(() => sessionForceCommand('/bin/x; rm -rf /', 1)).toThrow(/absolute/);
  });
});
