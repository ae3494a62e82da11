import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { AuditEvent } from '../../src/audit/audit-event';
import { initCa } from '../../src/ca/ca-directory';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { deleteByPattern, REDIS_URL } from '../helpers/redis';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const ROOT = join(__dirname, '..', '..');

/** The README's `npm start` on a fresh machine: the built CLI, the shipped workflows, no CA yet, Slack off. */
it('access-bot start creates a CA on first start, serves, ships audit events, and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'start-'));
  const prefix = `t-start-${process.pid}`;
  const port = 20000 + (process.pid % 20000);
  const child = spawn(process.execPath, [CLI, 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      CA_DIR: join(dir, 'ca'),
      AUDIT_LOG_FILE: join(dir, 'audit.jsonl'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const redis = new Redis(REDIS_URL);
  try {
    const ready = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      const body = r?.ok ? ((await r.json()) as { checks: Record<string, string> }) : undefined;
      return body?.checks.ca === 'published' ? body : undefined;
    }, 30_000, 'ready with a published CA');
    expect(ready.checks.redis).toBe('ok');
    expect(statSync(join(dir, 'ca', 'ssh_user_ca')).mode & 0o777).toBe(0o600);
    expect(logs).toMatch(/slack: off/);
    // The shipped kubernetes.yaml approves in Jira, which is off here: said loudly.
    expect(logs).toMatch(/JIRA IS OFF, but workflows approve in Jira \(kubernetes-jira\): their requests go to the approvers by Slack DM instead/);
    expect(logs).toMatch(/no CA found, so created one/);
    const pub = await (await fetch(`http://127.0.0.1:${port}/ca/ssh_user_ca.pub`)).text();
    expect(pub).toBe(readFileSync(join(dir, 'ca', 'ssh_user_ca.pub'), 'utf8'));

    const shipped = await eventually(() => {
      if (!existsSync(join(dir, 'audit.jsonl'))) return undefined;
      const events = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
      return events.filter((e) => e.type === 'config.loaded').length >= 2 ? events : undefined;
    }, 10_000, 'audit events shipped');
    expect(shipped.map((e) => e.type)).toEqual(expect.arrayContaining(['ca.created', 'config.loaded']));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await deleteByPattern(redis, `{${prefix}}*`);
    redis.disconnect();
  }
}, 60_000);

describe('access-bot worker refuses to start without a safe CA', () => {
  const run = async (prepare: (caDir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'worker-'));
    prepare(join(dir, 'ca'));
    return runCli(['worker'], { REDIS_PREFIX: `t-worker-${process.pid}`, CA_DIR: join(dir, 'ca'), LOG_LEVEL: 'silent', WORKFLOWS_DIR: join(ROOT, 'workflows') });
  };

  it('when there is no CA, and says how to make one', async () => {
    const r = await run(() => undefined);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CA_NOT_INITIALIZED: No CA in .*access-bot ca init/);
  });

  it('when a CA private key is group-readable', async () => {
    const r = await run((caDir) => {
      initCa(caDir);
      chmodSync(join(caDir, 'ssh_user_ca'), 0o640);
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CA_KEY_PERMISSIONS: .*ssh_user_ca is readable by other users \(mode 0640\); run `chmod 600/);
  });
});
