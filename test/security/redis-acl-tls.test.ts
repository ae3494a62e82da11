import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AppContext } from '../../src/app/app-context';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import { initCa } from '../../src/ca/ca-directory';
import { sshPublicKeyFromKeyObject } from '../../src/ca/ssh/ssh-public-key';
import { loadEnv } from '../../src/config/env';
import { silentLogger } from '../../src/log/logger';
import { StaticDirectory } from '../../src/requests/static-directory';
import { redisAclRules } from '../../src/store/redis-acl';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';

/**
 * Bot and worker as separate Redis users, over TLS, with the ACL rules `access-bot redis acl`
 * prints (issue 7 item 5): the whole flow works, and each user is refused what it must not do.
 * A private redis-server on a free port; the shared one at 6379 is never touched.
 */

const PREFIX = 'acltest';
const BOT_PASSWORD = 'bot-password-0123456789abcdef';
const WORKER_PASSWORD = 'worker-password-0123456789abcd';
const ADMIN_PASSWORD = 'admin-password-0123456789abcde';

let dir: string;
let port: number;
let server: ChildProcess;
let admin: Redis;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const url = (user: string, password: string) => `rediss://${user}:${password}@127.0.0.1:${port}`;
const tlsClient = (user: string, password: string) =>
  new Redis(url(user, password), { tls: { ca: execFileSync('cat', [join(dir, 'ca.crt')]) }, maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test redis CA']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  port = await freePort();
  writeFileSync(
    join(dir, 'redis.conf'),
    [
      'port 0',
      `tls-port ${port}`,
      'bind 127.0.0.1',
      `tls-cert-file ${join(dir, 'server.crt')}`,
      `tls-key-file ${join(dir, 'server.key')}`,
      `tls-ca-cert-file ${join(dir, 'ca.crt')}`,
      'tls-auth-clients no',
      'save ""',
      'appendonly no',
      `dir ${dir}`,
      'user default off',
      `user admin on >${ADMIN_PASSWORD} ~* &* +@all`,
      '',
    ].join('\n'),
  );
  server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
  admin = tlsClient('admin', ADMIN_PASSWORD);
  await eventually(async () => {
    try {
      if (admin.status !== 'ready') await admin.connect();
      return (await admin.ping()) === 'PONG';
    } catch {
      return undefined;
    }
  }, 10_000, 'redis-server with TLS');
  await admin.call('ACL', 'SETUSER', 'access-bot-bot', 'reset', 'on', `>${BOT_PASSWORD}`, ...redisAclRules(PREFIX, 'bot'));
  await admin.call('ACL', 'SETUSER', 'access-bot-worker', 'reset', 'on', `>${WORKER_PASSWORD}`, ...redisAclRules(PREFIX, 'worker'));
});

afterAll(async () => {
  admin?.disconnect();
  server?.kill('SIGTERM');
  await new Promise((r) => (server?.exitCode !== null ? r(undefined) : server.once('exit', r)));
  rmSync(dir, { recursive: true, force: true });
});

describe('bot and worker as separate Redis ACL users over TLS', () => {
  it('a request is approved by the bot and signed by the worker, each under its own user', async () => {
    const work = mkdtempSync(join(tmpdir(), 'acl-app-'));
    mkdirSync(join(work, 'workflows'));
    writeFileSync(
      join(work, 'workflows', 'w.yaml'),
      [
        'resources:',
        '  box: { description: box, workflow: auto, duration: { default: 1h, max: 1h }, ssh: { principals: [deploy] } }',
        'workflows:',
        '  auto:',
        '    requesters: { everyone: true }',
        '    reason: { required: false }',
        '    auto_approve: [{ requesters: { everyone: true }, max_duration: 1h }]',
        '    stages: [{ name: s, approvers: { users: [U0LEAD] } }]',
        '',
      ].join('\n'),
    );
    initCa(join(work, 'ca'));
    const common = { REDIS_PREFIX: PREFIX, WORKFLOWS_DIR: join(work, 'workflows'), CA_DIR: join(work, 'ca'), LOG_LEVEL: 'silent', REDIS_TLS_CA_FILE: join(dir, 'ca.crt') };
    const bot = await AppContext.create(loadEnv({ ...common, REDIS_URL: url('access-bot-bot', BOT_PASSWORD) }), silentLogger(), {
      directory: new StaticDirectory([{ id: 'U0ALICE', email: 'alice@example.com', groups: [] }]),
    });
    const workerCtx = await AppContext.create(loadEnv({ ...common, REDIS_URL: url('access-bot-worker', WORKER_PASSWORD) }), silentLogger(), {
      directory: new StaticDirectory([{ id: 'U0ALICE', email: 'alice@example.com', groups: [] }]),
    });
    let worker: WorkerProcess | undefined;
    try {
      worker = await startWorkerProcess(workerCtx);
      await bot.keyService.register('U0ALICE', sshPublicKeyFromKeyObject(generateKeyPairSync('ed25519').publicKey, 'alice'), 'slack');
      const submitted = await bot.service.submit('U0ALICE', { resource: 'box', reason: 'acl test', via: 'slack' });
      expect(submitted).toMatchObject({ status: 'ok', request: { state: 'approved' } });
      if (submitted.status !== 'ok') return;
      const issued = await eventually(async () => {
        const r = await bot.store.get(submitted.request.id);
        return r?.state === 'issued' ? r : undefined;
      }, 15_000, 'issued under the worker user');
      expect(issued.certificate?.principals).toEqual(['deploy']);
      expect((await bot.audit.verify()).ok).toBe(true);
      // The bot reads the CA material the worker published.
      expect(await bot.published.read()).toBeDefined();
    } finally {
      await worker?.stop();
      await bot.close();
      await workerCtx.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('the bot user cannot write the CA material, its serial counter or the revocation list', async () => {
    const bot = tlsClient('access-bot-bot', BOT_PASSWORD);
    await bot.connect();
    try {
      await expect(bot.set(`{${PREFIX}}:ca:public`, 'forged')).rejects.toThrow(/NOPERM/);
      await expect(bot.incr(`{${PREFIX}}:ca:serial`)).rejects.toThrow(/NOPERM/);
      await expect(bot.del(`{${PREFIX}}:ca:revoked`)).rejects.toThrow(/NOPERM/);
      await expect(bot.call('CONFIG', 'GET', 'dir')).rejects.toThrow(/NOPERM/);
      await expect(bot.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
      await expect(bot.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
      await expect(bot.set('{someone-else}:x', '1')).rejects.toThrow(/NOPERM/);
      // ...but reads it, to serve it.
      await expect(bot.exists(`{${PREFIX}}:ca:public`)).resolves.toBe(1);
    } finally {
      bot.disconnect();
    }
  });

  it('the worker user cannot register or change anyone\'s public keys', async () => {
    const worker = tlsClient('access-bot-worker', WORKER_PASSWORD);
    await worker.connect();
    try {
      await expect(worker.hset(`{${PREFIX}}:keys:U0ALICE`, 'SHA256:x', '{}')).rejects.toThrow(/NOPERM/);
      await expect(worker.call('CONFIG', 'SET', 'appendonly', 'yes')).rejects.toThrow(/NOPERM/);
    } finally {
      worker.disconnect();
    }
  });

  it('TLS is verified: without the CA, or without TLS, there is no connection', async () => {
    const untrusted = new Redis(url('access-bot-bot', BOT_PASSWORD), { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    const errors: Error[] = [];
    untrusted.on('error', (err: Error) => errors.push(err));
    await expect(untrusted.connect()).rejects.toThrow();
    expect(errors.map((e) => e.message).join(' ')).toMatch(/self.signed|certificate/i);
    untrusted.disconnect();
    const plain = new Redis(`redis://access-bot-bot:${BOT_PASSWORD}@127.0.0.1:${port}`, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null, connectTimeout: 2000 });
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    plain.disconnect();
    expect(() => loadEnv({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: join(dir, 'ca.crt') })).toThrow(/rediss:\/\//);
  });

  it('`access-bot redis acl --user … --password-file …` piped into redis-cli creates a user that works (the documented way)', async () => {
    const secret = join(dir, 'worker2.secret');
    writeFileSync(secret, 'worker2-password-0123456789abcdef\n', { mode: 0o600 });
    const cli = await runCli(['redis', 'acl', '--role', 'worker', '--user', 'access-bot-worker2', '--password-file', secret], { REDIS_PREFIX: PREFIX });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^ACL SETUSER access-bot-worker2 reset on ">worker2-password-0123456789abcdef" "resetkeys"/);
    execFileSync('redis-cli', ['--tls', '--cacert', join(dir, 'ca.crt'), '-h', '127.0.0.1', '-p', String(port), '--user', 'admin', '--pass', ADMIN_PASSWORD, '--no-auth-warning'], {
      input: cli.stdout,
    });
    const worker2 = tlsClient('access-bot-worker2', 'worker2-password-0123456789abcdef');
    await worker2.connect();
    try {
      await expect(worker2.incr(`{${PREFIX}}:ca:serial`)).resolves.toBeGreaterThan(0);
      await expect(worker2.hset(`{${PREFIX}}:keys:U0ALICE`, 'x', 'y')).rejects.toThrow(/NOPERM/);
    } finally {
      worker2.disconnect();
    }
  });
});
