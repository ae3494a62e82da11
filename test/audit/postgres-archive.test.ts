import { Client } from 'pg';
import type { AuditEvent } from '../../src/audit/audit-event';
import { AuditShipper } from '../../src/audit/audit-shipper';
import { ArchiveDivergedError } from '../../src/audit/postgres/errors/archive-diverged-error';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { PostgresSink } from '../../src/audit/sinks/postgres-sink';
import { createRedis } from '../../src/app/redis-connection';
import { silentLogger } from '../../src/log/logger';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { databaseUrl, testDatabase } from '../helpers/postgres';
import { REDIS_URL, testRedis } from '../helpers/redis';

let db: Awaited<ReturnType<typeof testDatabase>>;
let t: ReturnType<typeof testRedis>;
let log: RedisAuditLog;
let archive: PostgresAuditArchive;
const env = () => ({ REDIS_PREFIX: t.prefix, AUDIT_DATABASE_URL: db.url });
const event = (i: number) => ({ type: i % 2 ? 'request.created' : 'review.approved', actor: { id: `U${i}`, via: 'slack' as const }, requestId: `ar-${i}`, data: { i, text: `événement ${i} “quoted”` } });

beforeAll(async () => {
  db = await testDatabase('archive');
  t = testRedis('archive');
  log = new RedisAuditLog(t.redis, t.keys);
  archive = new PostgresAuditArchive(db.url);
});
afterAll(async () => {
  await archive.close();
  await t.cleanup();
  await db.drop();
});

async function shipAll(): Promise<void> {
  const conn = createRedis(REDIS_URL, { forBlocking: true });
  const shipper = new AuditShipper(conn, t.keys, new PostgresSink(archive, undefined, false), silentLogger(), { consumer: 'test', blockMs: 50, claimIdleMs: 200, retryMs: 50 });
  await shipper.start();
  const head = (await log.head()).seq;
  await eventually(async () => ((await archive.head())?.seq === head ? true : undefined), 10_000, 'archive caught up');
  await shipper.stop();
  conn.disconnect();
}

describe('access-bot db migrate', () => {
  it('creates the archive once, then says it is up to date, and db status shows the version', async () => {
    const first = await runCli(['db', 'migrate'], env());
    expect(first.stdout).toBe('applied migration 1: schema version 1\n');
    expect(first.code).toBe(0);
    expect((await runCli(['db', 'migrate'], env())).stdout).toBe('already up to date: schema version 1\n');
    expect((await runCli(['db', 'status'], env())).stdout).toMatch(/^schema version 1 \(this access-bot needs 1\); no events archived\n$/);
  });

  it('without AUDIT_DATABASE_URL it says what to set (exit 2)', async () => {
    const r = await runCli(['db', 'migrate'], { REDIS_PREFIX: t.prefix });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Set AUDIT_DATABASE_URL/);
  });
});

describe('the archive table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE even to its owner (a superuser here)', async () => {
    await log.append([event(1)], Date.now());
    await shipAll();
    await expect(db.sql(`UPDATE audit_events SET type = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(db.sql(`DELETE FROM audit_events WHERE seq = 1`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.sql(`TRUNCATE audit_events`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await db.sql(`SELECT count(*)::int AS n FROM audit_events`)).toEqual([{ n: 1 }]);
  });

  it('the app role from `db migrate --app-role` may SELECT and INSERT, and is denied UPDATE, DELETE, TRUNCATE and DDL', async () => {
    const role = await db.role('ab_app');
    const r = await runCli(['db', 'migrate', '--app-role', role], env());
    expect(r.stdout).toContain(`role ${role} may SELECT and INSERT, nothing else`);
    const asApp = new PostgresAuditArchive(databaseUrl(db.name, role), { max: 1 });
    const client = new Client({ connectionString: databaseUrl(db.name, role) });
    await client.connect();
    try {
      await log.append([event(2)], Date.now());
      const [second] = (await collect(log.read())).filter((e) => e.seq === 2);
      expect(await asApp.insert([second!])).toEqual({ inserted: 1, duplicates: 0 });
      expect((await asApp.head())?.seq).toBe(2);
      for (const sql of [`UPDATE audit_events SET type = 'x'`, `DELETE FROM audit_events`, `TRUNCATE audit_events`, `ALTER TABLE audit_events DISABLE TRIGGER USER`, `CREATE TABLE evil (x int)`]) {
        await expect(client.query(sql)).rejects.toMatchObject({ code: expect.stringMatching(/^(42501)$/) });
      }
    } finally {
      await client.end();
      await asApp.close();
    }
  });

  it('a batch delivered twice archives each event once; a different event at an archived number is refused', async () => {
    const all = await collect(log.read());
    expect(await archive.insert(all)).toEqual({ inserted: 0, duplicates: all.length });
    const forged: AuditEvent = { ...all[0]!, hash: 'f'.repeat(64) };
    await expect(archive.insert([forged])).rejects.toThrow(ArchiveDivergedError);
  });
});

describe('audit verify --source postgres', () => {
  it('proves the archived chain and that its head matches Redis', async () => {
    for (let i = 3; i <= 40; i++) await log.append([event(i)], Date.now());
    await shipAll();
    const r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.stdout).toMatch(/^ok: 40 events, chain unbroken; head 40:[0-9a-f]{64}\nmatches Redis at event 40 \(Redis holds 1–40\)\n$/);
    expect(r.code).toBe(0);
    // The archive's events are the same events, field for field.
    expect(await collect(archive.read())).toEqual((await collect(log.read())).map((e) => ({ ...e })));
  });

  it('reports events written to Redis and not archived yet, and still passes', async () => {
    await log.append([event(41), event(42)], Date.now());
    const r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.stdout).toContain('matches Redis at event 40 (Redis holds 1–42; 2 not archived yet)');
    expect(r.code).toBe(0);
    await shipAll();
  });

  it('catches a superuser who disables the trigger and rewrites an event body', async () => {
    await tamper(`UPDATE audit_events SET body = replace(body, 'événement 7', 'événement 8') WHERE seq = 7`);
    const r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 7 .*hash does not match the content: the event was altered\n6 events before it verified\.\n$/);
  });

  it('catches a rewritten query column (type) even when the body is left alone', async () => {
    await tamper(`UPDATE audit_events SET body = replace(body, 'événement 8', 'événement 7') WHERE seq = 7`);
    expect((await runCli(['audit', 'verify', '--source', 'postgres'], env())).code).toBe(0);
    await tamper(`UPDATE audit_events SET type = 'request.cancelled' WHERE seq = 9`);
    const r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.stdout).toMatch(/^BROKEN at event 9 .*altered/);
    await tamper(`UPDATE audit_events SET type = 'request.created' WHERE seq = 9`);
  });

  it('catches events deleted from the middle and from the end of the archive', async () => {
    await tamper(`DELETE FROM audit_events WHERE seq = 20`);
    let r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.stdout).toMatch(/^BROKEN at event 21 .*expected event 20 but found event 21: events missing/);
    await tamper(`DELETE FROM audit_events WHERE seq > 20`);
    await tamper(`DELETE FROM audit_events WHERE seq > 19`);
    r = await runCli(['audit', 'verify', '--source', 'postgres'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Redis recorded events through 42 as archived, but the archive ends at 19: events were removed from the archive/);
  });
});

async function tamper(sql: string): Promise<void> {
  await db.sql(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
  try {
    await db.sql(sql);
  } finally {
    await db.sql(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
