import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StaticDirectory } from '../../src/requests/static-directory';
import { eventually, testApp, type TestApp } from '../helpers/app';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const TOTAL = 200;

const workflows = {
  resources: { box: { description: 'box', workflow: 'auto', duration: { default: '1h', max: '1h' }, ssh: { principals: ['deploy'] } } },
  workflows: {
    auto: {
      requesters: { everyone: true },
      auto_approve: [{ requesters: { everyone: true }, max_duration: '1h' }],
      stages: [{ name: 'unused', approvers: { users: ['ULEAD'] } }],
    },
  },
};

let app: TestApp;
const children: ChildProcess[] = [];

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...app.env, WORKER_CONCURRENCY: '8', WORKER_PORT: '0', WORKER_STALLED_CHECK: '1s', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') console.error(`worker exited ${code}: ${stderr}`);
  });
  children.push(child);
  return child;
}

// One person per request: a person holds one open request per resource.
const users = Array.from({ length: TOTAL }, (_, i) => `UUSER${i}`);

beforeAll(async () => {
  app = await testApp({
    workflows,
    env: { RATE_LIMIT_REQUESTS: '1000/1m' },
    integrations: { directory: new StaticDirectory(users.map((id) => ({ id, email: `${id.toLowerCase()}@example.com`, groups: [] }))) },
  });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(app.dir, 'id')]);
  const pub = readFileSync(join(app.dir, 'id.pub'), 'utf8');
  for (const user of users) await app.ctx.keyService.register(user, pub, 'slack');
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await app.cleanup();
});

const countIssued = async () => (await app.ctx.store.listByState('issued', 1000)).length;

it('a worker killed with SIGKILL mid-run loses nothing and duplicates nothing once a new worker starts', async () => {
  const first = startWorker();
  const ids: string[] = [];
  let killedAt = -1;
  for (let batch = 0; batch < TOTAL / 10; batch++) {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.ctx.service.submit(users[batch * 10 + i]!, { resource: 'box', reason: `r${batch * 10 + i}`, via: 'slack' })),
    );
    for (const r of results) {
      if (r.status !== 'ok' || r.request.state !== 'approved') throw new Error(JSON.stringify(r));
      ids.push(r.request.id);
    }
    if (killedAt < 0 && (await countIssued()) >= 40) {
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      killedAt = await countIssued();
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (killedAt < 0) {
    // The first worker had not reached 40 while requests were coming in: kill it now, mid-queue.
    await eventually(async () => ((await countIssued()) >= 40 ? true : undefined), 20_000, '40 certificates');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    killedAt = await countIssued();
  }
  expect(killedAt).toBeGreaterThan(0);
  expect(killedAt).toBeLessThan(TOTAL);

  startWorker();
  await eventually(async () => ((await countIssued()) >= TOTAL ? true : undefined), 45_000, `all ${TOTAL} issued`);

  const requests = await app.ctx.store.getMany(ids);
  expect(requests.every((r) => r.state === 'issued' && r.certificate !== undefined)).toBe(true);
  const serials = requests.map((r) => r.certificate!.serial);
  expect(new Set(serials).size).toBe(TOTAL);

  const issuedEvents = new Map<string, number>();
  for await (const e of app.ctx.audit.read()) {
    if (e.type === 'cert.issued' && e.requestId) issuedEvents.set(e.requestId, (issuedEvents.get(e.requestId) ?? 0) + 1);
  }
  expect(ids.filter((id) => issuedEvents.get(id) !== 1)).toEqual([]);
  expect((await app.ctx.audit.verify()).ok).toBe(true);
}, 90_000);
