import { Writable } from 'node:stream';
import { startAuditSinks } from '../../src/app/audit-sinks';
import { startBotProcess, type BotProcess } from '../../src/app/bot-process';
import type { RunningProcess } from '../../src/app/running-process';
import { ArchiveLagMonitor, LAG_WARNING } from '../../src/audit/postgres/archive-lag-monitor';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import { createLogger } from '../../src/log/logger';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { testDatabase } from '../helpers/postgres';

const workflows = {
  resources: { box: { description: 'box', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['deploy'] } } },
  workflows: { w: { requesters: { everyone: true }, stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }] } },
};

let db: Awaited<ReturnType<typeof testDatabase>>;
let app: TestApp;
let sinks: RunningProcess | undefined;
let bot: BotProcess | undefined;

beforeAll(async () => {
  db = await testDatabase('lag');
  app = await testApp({ workflows, ca: false, env: { AUDIT_DATABASE_URL: db.url } });
});
afterAll(async () => {
  await bot?.stop();
  await sinks?.stop();
  await app.cleanup();
  await db.drop();
});

it('`serve` refuses to start on an archive that was never migrated, and says to run `db migrate`', async () => {
  await expect(startAuditSinks(app.ctx, 'serve')).rejects.toThrow(/schema is at version 0, this access-bot needs 1: run `access-bot db migrate`/);
});

it('`start` migrates on first use; /readyz shows how far the archive trails Redis', async () => {
  sinks = await startAuditSinks(app.ctx, 'start');
  bot = await startBotProcess(app.ctx, [], 0);
  const head = (await app.ctx.audit.head()).seq;
  expect(head).toBeGreaterThan(0);
  const checks = await eventually(async () => {
    const body = (await (await fetch(`http://127.0.0.1:${bot!.port}/readyz`)).json()) as { checks: Record<string, string> };
    return body.checks.auditArchive === `ok: archived to ${head}, 0 behind Redis` ? body.checks : undefined;
  }, 10_000, 'readyz shows the archive caught up');
  expect(checks.redis).toBe('ok');
});

it('the log warns while the lag grows past the threshold and says when it has caught up', async () => {
  await sinks!.stop();
  sinks = undefined;
  const lines: { level: number; msg: string; lag?: number }[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) }) });
  const archive = new PostgresAuditArchive(db.url, { max: 1 });
  const monitor = new ArchiveLagMonitor(archive, app.ctx.audit, logger);
  const append = (n: number) => app.ctx.audit.append(Array.from({ length: n }, (_, i) => ({ type: 'key.registered', actor: { id: 'U1' }, data: { i } })), Date.now());
  await append(LAG_WARNING + 5);
  expect((await monitor.check()).lag).toBe(LAG_WARNING + 5);
  await append(10);
  await monitor.check();
  const warnings = lines.filter((l) => l.msg === 'audit archive lag is growing');
  expect(warnings.map((w) => w.lag)).toEqual([LAG_WARNING + 5, LAG_WARNING + 15]);

  sinks = await startAuditSinks(app.ctx, 'start');
  const head = (await app.ctx.audit.head()).seq;
  await eventually(async () => ((await archive.head())?.seq === head ? true : undefined), 10_000, 'caught up');
  expect((await monitor.check()).lag).toBe(0);
  expect(lines.filter((l) => l.msg === 'audit archive caught up')).toHaveLength(1);
  expect(await monitor.describe()).toBe(`ok: archived to ${head}, 0 behind Redis`);
  await archive.close();
});
