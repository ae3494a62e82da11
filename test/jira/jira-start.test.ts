import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { accessRequestProject, FakeJiraApi } from '../fakes/jira-api';
import { eventually } from '../helpers/app';
import { deleteByPattern, REDIS_URL } from '../helpers/redis';

/**
 * `access-bot start` (the built CLI) with the shipped workflows and Jira pointed at a PLAT project:
 * it checks the credentials and the kubernetes workflow's project, type and statuses, says they are
 * usable, and takes signed webhooks at POST /webhooks/jira.
 */

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const ROOT = join(__dirname, '..', '..');
const bot = { accountId: '557058:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' };

it('access-bot start with Jira on: says which workflows are usable and refuses unsigned webhooks', async () => {
  const fake = new FakeJiraApi({ users: [], apiUser: bot, projects: [accessRequestProject('PLAT')] });
  const url = await fake.start();
  const dir = mkdtempSync(join(tmpdir(), 'jira-start-'));
  const prefix = `t-jira-start-${process.pid}`;
  const port = 20000 + ((process.pid + 7) % 20000);
  const child = spawn(process.execPath, [CLI, 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      WORKER_PORT: '0',
      CA_DIR: join(dir, 'ca'),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      JIRA_URL: url,
      JIRA_EMAIL: bot.email,
      JIRA_API_TOKEN: fake.apiToken,
      JIRA_WEBHOOK_SECRET: 'start-test-webhook-secret',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const redis = new Redis(REDIS_URL);
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 30_000, 'ready');
    expect(logs).toContain(`jira: on (${url} as ${bot.email}, webhook POST /webhooks/jira, polled every 1m)`);
    expect(logs).toContain('jira: workflow kubernetes-jira usable: project PLAT, issue type \\"Access Request\\"');
    expect(fake.calls(/\/rest\/api\/3\/myself$/).length).toBeGreaterThanOrEqual(1);
    const unsigned = await fetch(`http://127.0.0.1:${port}/webhooks/jira`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"issue":{"id":"1"}}' });
    expect(unsigned.status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await deleteByPattern(redis, `{${prefix}}*`);
    redis.disconnect();
    await fake.stop();
  }
}, 60_000);
