import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { freePort } from '../../src/bench/bench-support';
import { APPROVALS, Cluster } from './cluster';

/**
 * Redis restarted in the middle of a flow (a Redis of this test's own, on a spare port, with AOF;
 * the shared Redis is never touched): the bot and worker processes reconnect, the work in flight
 * finishes, and nothing committed before the restart is lost or done twice.
 */

const N = 8;
const LEAD = { id: 'U0LEAD', name: 'lead', email: 'lead@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
const people: FakeSlackUser[] = Array.from({ length: N }, (_, i) => ({ id: `U0ENG${i}`, name: `eng${i}`, email: `eng${i}@example.com`, groups: ['S0ENG'] }));
const workflows = {
  resources: { box: { description: 'box', workflow: 'ops', duration: { default: '1h', max: '1h' }, ssh: { principals: ['deploy'] } } },
  workflows: { ops: { requesters: { slack_groups: ['engineers'] }, reason: { required: false }, stages: [{ name: 'leads', approvers: { slack_groups: ['leads'] } }], approval: { slack_channel: APPROVALS } } },
};

let dir: string;
let port: number;
let redis: ChildProcess | undefined;
let cluster: Cluster;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: 'ignore' });
  redis = child;
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await eventually(async () => (await probe.connect().then(() => probe.ping(), () => undefined)) === 'PONG' || undefined, 10_000, 'redis-server up');
  } finally {
    probe.disconnect();
  }
}

/** SIGTERM: Redis writes and syncs its AOF and exits, as on a restart for an upgrade or a host reboot. */
async function stopRedis(): Promise<void> {
  const child = redis!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redis-restart-'));
  port = await freePort();
  await startRedis();
  cluster = await Cluster.create({ workflows, users: [LEAD, ...people], usergroups: [{ id: 'S0ENG', handle: 'engineers' }, { id: 'S0LEADS', handle: 'leads' }], redisUrl: `redis://127.0.0.1:${port}` });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(cluster.app.dir, 'id')]);
  const pub = readFileSync(join(cluster.app.dir, 'id.pub'), 'utf8');
  for (const p of people) await cluster.app.ctx.keyService.register(p.id, pub, 'slack');
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  if (redis && redis.exitCode === null) await stopRedis();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('bot and worker reconnect after Redis restarts mid-flow; every request finishes exactly once', async () => {
  const { app } = cluster;
  const [bot, worker] = await Promise.all([cluster.start('serve'), cluster.start('worker')]);
  for (const p of people) await cluster.command(bot, p.id, 'box 1h restart drill');
  const ids = await Promise.all(people.map((p) => eventually(async () => (await app.ctx.store.listByRequester(p.id, 1))[0]?.id, 20_000, `request of ${p.id}`)));
  const messages = await Promise.all(ids.map((id) => cluster.approvalMessage(id)));

  // Half approved; Redis goes down while their certificates are being issued and delivered.
  const first = ids.slice(0, N / 2);
  await Promise.all(first.map((id, i) => cluster.click(bot, LEAD.id, messages[i]!, id)));
  await eventually(async () => ((await app.ctx.store.getMany(first)).some((r) => r.state !== 'pending') ? true : undefined), 20_000, 'an approval committed');
  // Work in flight at the restart: approvals committed whose certificates are not issued yet.
  expect((await app.ctx.store.getMany(first)).some((r) => r.state === 'approved')).toBe(true);
  // This test's own connections reconnect too; their connection errors meanwhile are expected.
  for (const connection of [app.ctx.redis, app.ctx.bullConnection]) connection.on('error', () => undefined);
  await stopRedis();
  await new Promise((r) => setTimeout(r, 500));
  await startRedis();

  // Both processes come back on their own.
  for (const p of [bot, worker]) await eventually(async () => (await fetch(`http://127.0.0.1:${p.port}/readyz`).catch(() => undefined))?.ok || undefined, 30_000, `${p.role} ready again`);

  // The rest approved after the restart.
  const rest = ids.slice(N / 2);
  await Promise.all(rest.map((id, i) => cluster.click(bot, LEAD.id, messages[N / 2 + i]!, id)));

  // The approvals clicked before the restart had been acknowledged to Slack: each must have been
  // committed (the click was answered after the commit) and must finish.
  const requests = await eventually(async () => {
    const all = await app.ctx.store.getMany(ids);
    return all.every((r) => r.state === 'issued') ? all : undefined;
  }, 60_000, 'every request issued');
  expect(new Set(requests.map((r) => r.certificate!.serial)).size).toBe(N);
  await eventually(() => (cluster.counts(ids, people.map((p) => p.id)).certificateDms.every((n) => n >= 1) ? true : undefined), 30_000, 'every certificate delivered');
  await new Promise((r) => setTimeout(r, 500));
  expect(cluster.counts(ids, people.map((p) => p.id))).toEqual({ approvalMessages: ids.map(() => 1), certificateDms: people.map(() => 1) });

  const perRequest = new Map<string, string[]>();
  for await (const e of app.ctx.audit.read()) if (e.requestId) perRequest.set(e.requestId, [...(perRequest.get(e.requestId) ?? []), e.type]);
  for (const id of ids)
    for (const type of ['request.created', 'request.approved', 'cert.issued', 'cert.delivered'])
      expect({ id, type, n: (perRequest.get(id) ?? []).filter((t) => t === type).length }).toEqual({ id, type, n: 1 });
  expect((await app.ctx.audit.verify()).ok).toBe(true);
}, 150_000);
