import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway OpenSSH server on 127.0.0.1 for tests: its own port, config, host key, CA trust,
 * KRL and log, started and stopped by the test. See ../shared/notes/openssh-testing.md.
 */

const execFileAsync = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const DEFAULT_TEST_USER = 'accessbot-test';
const MARKER_VARIABLE = 'ACCESS_BOT_TEST_SSHD';

export interface TestSshdOptions {
  /** OpenSSH public key lines written to `TrustedUserCAKeys`. */
  trustedCaKeys: string[];
  /** The initial `RevokedKeys` file; an empty KRL (`ssh-keygen -k`) when omitted. */
  krl?: Buffer;
  /** The Unix user tests log in as (created when missing); default `accessbot-test`. */
  user?: string;
  /** When set, `AuthorizedPrincipalsFile` lists these principals per user (and `StrictModes no`, as files live under /tmp). */
  authorizedPrincipals?: Record<string, string[]>;
}

export interface SshLoginOptions {
  privateKeyPath: string;
  certPath: string;
  /** Defaults to the server's test user. */
  user?: string;
  /** Remote command; the login shell when omitted. */
  command?: string;
  /** Ask for a pseudo-terminal (`ssh -tt`). */
  tty?: boolean;
  /** Written to the session's stdin. Without a tty, stdin is then closed. */
  input?: string;
  /** The client is killed after this long (default 20 s). */
  timeoutMs?: number;
}

export interface SshLoginResult {
  /** The client exited 0. */
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Why sshd refused the login, taken from its log (e.g. "Certificate invalid: expired"). */
  refusal?: string;
  /** The sshd log lines written during authentication. */
  sshdLog: string;
}

const REFUSAL_PATTERNS: readonly RegExp[] = [
  /Certificate invalid: .*/,
  /Authentication key .* revoked by file .*/,
  /Error checking authentication key .*/,
  /Authentication refused: .*/,
  /.*not from a permitted source address.*/,
  /.*Certificate lacks principal list.*/,
  /error: .*/,
  /Failed publickey .*/,
];

export async function startTestSshd(options: TestSshdOptions): Promise<TestSshd> {
  const user = options.user ?? DEFAULT_TEST_USER;
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await chmod('/run/sshd', 0o755);
  await ensureTestUser(user);

  const dir = await mkdtemp(join(tmpdir(), 'access-bot-sshd-'));
  await chmod(dir, 0o755);
  const paths = {
    config: join(dir, 'sshd_config'),
    hostKey: join(dir, 'host_ed25519_key'),
    trustedCaKeys: join(dir, 'trusted_user_ca_keys.pub'),
    krl: join(dir, 'revoked.krl'),
    log: join(dir, 'sshd.log'),
    pid: join(dir, 'sshd.pid'),
    principals: join(dir, 'principals'),
  };
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test host key', '-f', paths.hostKey]);
  await writeFile(paths.trustedCaKeys, options.trustedCaKeys.map((line) => `${line}\n`).join(''), { mode: 0o644 });
  if (options.krl) await writeFile(paths.krl, options.krl, { mode: 0o644 });
  else await execFileAsync('ssh-keygen', ['-q', '-k', '-f', paths.krl]);
  if (options.authorizedPrincipals) {
    await mkdir(paths.principals, { mode: 0o755 });
    for (const [name, principals] of Object.entries(options.authorizedPrincipals)) {
      await writeFile(join(paths.principals, name), principals.map((p) => `${p}\n`).join(''), { mode: 0o644 });
    }
  }
  await writeFile(paths.log, '', { mode: 0o600 });

  const marker = randomBytes(8).toString('hex');
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${paths.hostKey}`,
      `PidFile ${paths.pid}`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'AuthorizedKeysFile none',
      `TrustedUserCAKeys ${paths.trustedCaKeys}`,
      `RevokedKeys ${paths.krl}`,
      ...(options.authorizedPrincipals ? [`AuthorizedPrincipalsFile ${paths.principals}/%u`, 'StrictModes no'] : []),
      'LogLevel VERBOSE',
      'MaxStartups 100',
      // Every process of a session carries this, so stop() can end exactly this server's sessions.
      `SetEnv ${MARKER_VARIABLE}=${marker}`,
      '',
    ].join('\n');
    await writeFile(paths.config, config, { mode: 0o644 });
    try {
      await execFileAsync(SSHD, ['-t', '-f', paths.config]);
    } catch (error) {
      throw new Error(`sshd -t rejected the test config: ${describeExecError(error)}`);
    }
    const child = spawn(SSHD, ['-D', '-f', paths.config, '-E', paths.log], { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new TestSshd(user, port, dir, paths, marker, child);
    try {
      await server.waitUntilListening();
      return server;
    } catch (error) {
      lastError = error as Error;
      await server.stop({ keepDir: true });
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('sshd did not start');
}

export class TestSshd {
  private authQueue: Promise<void> = Promise.resolve();
  private readonly clients = new Set<ChildProcess>();
  private readonly exited: Promise<void>;
  private exitedAlready = false;
  private stderr = '';

  constructor(
    readonly user: string,
    readonly port: number,
    readonly dir: string,
    readonly paths: Readonly<Record<'config' | 'hostKey' | 'trustedCaKeys' | 'krl' | 'log' | 'pid' | 'principals', string>>,
    private readonly marker: string,
    private readonly listener: ChildProcess,
  ) {
    listener.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => {
      listener.once('exit', () => {
        this.exitedAlready = true;
        resolve();
      });
    });
  }

  /** Resolves once the port accepts connections; rejects if sshd exits first. */
  async waitUntilListening(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitedAlready) throw new Error(`sshd exited at start: ${this.stderr}${await this.log()}`);
      if (await canConnect(this.port)) return;
      await delay(20);
    }
    throw new Error(`sshd did not listen on port ${this.port} within ${timeoutMs} ms`);
  }

  /** Logs in with a key and certificate; the refusal reason comes from the sshd log. */
  async login(options: SshLoginOptions): Promise<SshLoginResult> {
    // One authentication at a time, so the log lines between two offsets belong to this login.
    // The next login may start once this one has a session (or has ended).
    let releaseAuth!: () => void;
    const previous = this.authQueue;
    this.authQueue = new Promise((resolve) => {
      releaseAuth = resolve;
    });
    await previous;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        releaseAuth();
      }
    };

    try {
      const logOffset = (await stat(this.paths.log)).size;
      const args = [
        '-F', '/dev/null',
        '-i', options.privateKeyPath,
        '-o', `CertificateFile=${options.certPath}`,
        '-o', 'IdentitiesOnly=yes',
        '-o', 'IdentityAgent=none',
        '-o', 'UserKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=no',
        '-o', 'BatchMode=yes',
        '-o', 'LogLevel=ERROR',
        '-o', 'ConnectTimeout=10',
        '-p', String(this.port),
        options.tty ? '-tt' : '-T',
        `${options.user ?? this.user}@127.0.0.1`,
        ...(options.command === undefined ? [] : [options.command]),
      ];
      const client = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      this.clients.add(client);
      let stdout = '';
      let stderr = '';
      client.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      client.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      client.stdin.on('error', () => undefined); // the session may end before it reads its input
      if (options.input !== undefined) client.stdin.write(options.input);
      if (!options.tty) client.stdin.end();

      const exit = new Promise<number | null>((resolve) => {
        client.once('close', (code) => {
          this.clients.delete(client);
          resolve(code);
        });
      });
      const timer = setTimeout(() => client.kill('SIGKILL'), options.timeoutMs ?? 20_000);

      let authLog = '';
      let done = false;
      const watchForSession = (async () => {
        while (!done) {
          const text = await this.log(logOffset);
          if (/Starting session: /.test(text)) {
            authLog = text;
            release();
            return;
          }
          await delay(25);
        }
      })();
      const exitCode = await exit;
      done = true;
      clearTimeout(timer);
      await watchForSession;
      if (!released) {
        authLog = await this.log(logOffset);
        release();
      }

      const result: SshLoginResult = { ok: exitCode === 0, exitCode, stdout, stderr, sshdLog: authLog };
      if (!/Accepted publickey for /.test(authLog)) {
        const refusal = findRefusal(authLog);
        if (refusal !== undefined) result.refusal = refusal;
      }
      return result;
    } finally {
      release();
    }
  }

  /** Replaces the KRL atomically; sshd rereads it on every login. */
  async writeKrl(krl: Buffer): Promise<void> {
    await replaceFile(this.paths.krl, krl);
  }

  /** Deletes the KRL file (sshd then refuses every key: it fails closed). */
  async removeKrl(): Promise<void> {
    await rm(this.paths.krl, { force: true });
  }

  /** Replaces the trusted CA keys; sshd rereads them on every login. */
  async writeTrustedCaKeys(lines: string[]): Promise<void> {
    await replaceFile(this.paths.trustedCaKeys, lines.map((line) => `${line}\n`).join(''));
  }

  /** The sshd log from `offset` (bytes) on. */
  async log(offset = 0): Promise<string> {
    const handle = await open(this.paths.log, 'r');
    try {
      const { size } = await handle.stat();
      if (size <= offset) return '';
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /** Ends the server, every connection and every process of its sessions, then removes its files. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    for (const client of this.clients) client.kill('SIGKILL');
    killSessionProcesses(this.marker);
    if (!this.exitedAlready && this.listener.pid !== undefined) {
      for (const pid of descendantsOf(this.listener.pid)) signal(pid, 'SIGKILL');
      this.listener.kill('SIGTERM');
      const killed = setTimeout(() => this.listener.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(killed);
    }
    killSessionProcesses(this.marker);
    if (!options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Creates the Unix user when missing, unlocked without a password (`*`), as sshd needs with UsePAM no. */
export async function ensureTestUser(name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name)) throw new Error(`not a safe user name: ${name}`);
  // Test files run in parallel and may race to create the same user: retry until it is there.
  for (let attempt = 0; ; attempt++) {
    const state = shadowState(name);
    if (state === 'ready') return;
    try {
      if (state === 'missing') await execFileAsync('useradd', ['-m', '-s', '/bin/bash', name]);
      await execFileAsync('usermod', ['-p', '*', name]);
    } catch (error) {
      if (attempt >= 30) throw new Error(`could not create test user ${name}: ${describeExecError(error)}`);
      await delay(100);
    }
  }
}

function shadowState(name: string): 'missing' | 'locked' | 'ready' {
  const line = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (line === undefined) return 'missing';
  return line.split(':')[1] === '*' ? 'ready' : 'locked';
}

function findRefusal(log: string): string | undefined {
  for (const pattern of REFUSAL_PATTERNS) {
    const match = pattern.exec(log);
    if (match) return match[0].trim();
  }
  return undefined;
}

async function replaceFile(path: string, content: string | Buffer): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode: 0o644 });
  await rename(temporary, path);
}

function killSessionProcesses(marker: string): void {
  const entry = `${MARKER_VARIABLE}=${marker}`;
  for (const pid of listPids()) {
    let environment: string[];
    try {
      environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue; // the process ended meanwhile
    }
    if (environment.includes(entry)) signal(pid, 'SIGKILL');
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const found: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeExecError(error: unknown): string {
  if (error && typeof error === 'object' && 'stderr' in error) return String((error as { stderr: unknown }).stderr).trim();
  return error instanceof Error ? error.message : String(error);
}
