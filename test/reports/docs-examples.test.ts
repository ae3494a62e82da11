import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PendingChangeStore } from '../../src/access-review/pending-change-store';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { runCli } from '../helpers/cli';
import { testDatabase } from '../helpers/postgres';
import { testRedis } from '../helpers/redis';
import { FIXTURE_FILE, fixtureEvents } from './fixture-log';

/** Every `npx access-bot …` example in docs/compliance.md and the archive part of docs/audit.md, run as written. */
const ROOT = join(__dirname, '..', '..');

function examples(file: string): string[][] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^\s*npx access-bot (.+?)(?:\s+#.*)?$/gm)].map((m) => [...m[1]!.matchAll(/"([^"]*)"|(\S+)/g)].map((t) => t[1] ?? t[2]!));
}

it('the report, db and verify examples of the docs run against a log holding the fixture', async () => {
  const t = testRedis('docs');
  const db = await testDatabase('docs');
  const cwd = mkdtempSync(join(tmpdir(), 'docs-examples-'));
  try {
    const events = fixtureEvents();
    for (const e of events)
      await t.redis.xadd(t.keys.auditStream, '*', 'seq', e.seq, 'prev', e.prev, 'hash', e.hash, 'body', JSON.stringify({ type: e.type, at: e.at, actor: e.actor, ...(e.requestId ? { requestId: e.requestId } : {}), data: e.data }));
    await t.redis.hset(t.keys.auditHead, 'seq', events.at(-1)!.seq, 'hash', events.at(-1)!.hash);
    copyFileSync(FIXTURE_FILE, join(cwd, 'evidence.jsonl'));
    const env = { REDIS_PREFIX: t.prefix, AUDIT_DATABASE_URL: db.url, USER: 'docs' };
    const archive = new PostgresAuditArchive(db.url, { max: 1 });
    await archive.migrate();
    await archive.insert(events);
    await archive.close();
    // The pending change the close example names.
    await new PendingChangeStore(t.redis, t.keys, new RedisAuditLog(t.redis, t.keys)).add({
      id: 'chg-quarterly-production-2026-Q3-4', state: 'open', user: 'U0MALLORY', resource: 'prod-db', instruction: 'x', review: 'quarterly-production', campaign: 'quarterly-production-2026-Q3', period: '2026-Q3', requestedBy: 'U0CAROL', at: Date.now(),
    });

    const ran: string[] = [];
    for (const file of ['docs/compliance.md', 'docs/audit.md']) {
      for (const args of examples(file)) {
        if (!['report', 'db'].includes(args[0]!) && !args.includes('--source')) continue;
        const r = await runCli(args, env, cwd);
        expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, expect.any(String)]);
        ran.push(args.slice(0, 2).join(' '));
      }
    }
    expect(ran).toEqual(expect.arrayContaining(['report pending-changes', 'report access-review', 'report soc2', 'audit verify']));
    expect(existsSync(join(cwd, 'review.html'))).toBe(true);
    expect(readFileSync(join(cwd, 'soc2-2026-Q3.html'), 'utf8')).toContain('SOC 2 evidence 2026-Q3');
  } finally {
    await t.cleanup();
    await db.drop();
  }
});
