import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { testDatabase } from '../helpers/postgres';
import { REDIS_URL, testRedis } from '../helpers/redis';

const CHILD = join(__dirname, 'fixtures', 'archive-shipper-child.js');
const TOTAL = 1000;

let db: Awaited<ReturnType<typeof testDatabase>>;
let t: ReturnType<typeof testRedis>;
let archive: PostgresAuditArchive;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await testDatabase('once');
  t = testRedis('once');
  archive = new PostgresAuditArchive(db.url);
  await archive.migrate();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await archive.close();
  await t.cleanup();
  await db.drop();
});

function shipper(consumer: string, crashAfterBatches = 0): { child: ChildProcess; stdout: () => string; exited: Promise<NodeJS.Signals | number | null> } {
  const child = spawn(process.execPath, [CHILD], {
    env: { PATH: process.env.PATH, REDIS_URL, REDIS_PREFIX: t.prefix, AUDIT_DATABASE_URL: db.url, CONSUMER: consumer, CRASH_AFTER_BATCHES: String(crashAfterBatches) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, stdout: () => out, exited };
}

async function ready(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`shipper exited early: ${err}`)));
  });
}

it('two shipper processes, one killed between its insert and its ack: every event lands in PostgreSQL exactly once', async () => {
  const log = new RedisAuditLog(t.redis, t.keys);
  const crashing = shipper('replica-a', 1);
  const steady = shipper('replica-b');
  await Promise.all([ready(crashing.child), ready(steady.child)]);

  for (let i = 0; i < TOTAL; i += 10) {
    await log.append(
      Array.from({ length: 10 }, (_, j) => ({ type: 'request.created', actor: { id: 'UALICE', via: 'slack' as const }, requestId: `ar-${i + j}`, data: { n: i + j } })),
      Date.now(),
    );
  }
  expect(await crashing.exited).toBe('SIGKILL');

  await eventually(async () => ((await archive.head())?.seq === TOTAL ? true : undefined), 30_000, 'archive holds every event');
  await eventually(async () => (((await t.redis.xpending(t.keys.auditStream, 'sink-postgres')) as [number])[0] === 0 ? true : undefined), 10_000, 'nothing pending');

  steady.child.kill('SIGTERM');
  await steady.exited;
  const stats = JSON.parse(steady.stdout()) as { inserted: number; duplicates: number };
  // The surviving replica claimed the dead one's batch, found it archived, skipped it and acknowledged it.
  expect(stats.duplicates).toBeGreaterThanOrEqual(1);
  expect(stats.duplicates).toBeLessThanOrEqual(20);

  const rows = await db.sql<{ n: number; distinct: number; min: number; max: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT hash)::int AS distinct, min(seq)::int AS min, max(seq)::int AS max FROM audit_events',
  );
  expect(rows[0]).toEqual({ n: TOTAL, distinct: TOTAL, min: 1, max: TOTAL });
  const verified = await runCli(['audit', 'verify', '--source', 'postgres'], { REDIS_PREFIX: t.prefix, AUDIT_DATABASE_URL: db.url });
  expect(verified.stdout).toContain(`ok: ${TOTAL} events, chain unbroken`);
  expect(verified.stdout).toContain(`matches Redis at event ${TOTAL}`);
}, 60_000);
