import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { runCli } from '../helpers/cli';
import { testRedis } from '../helpers/redis';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);

let t: ReturnType<typeof testRedis>;
let log: RedisAuditLog;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  t = testRedis('audit');
  log = new RedisAuditLog(t.redis, t.keys);
  env = { REDIS_PREFIX: t.prefix };
  // Six events over six days: two requests by two users.
  await log.append([{ type: 'request.created', actor: { id: 'UALICE', via: 'slack' }, requestId: 'ra', data: { requester: { id: 'UALICE' }, reason: 'INC-1' } }], T0);
  await log.append([{ type: 'request.created', actor: { id: 'UBOB', via: 'slack' }, requestId: 'rb', data: { requester: { id: 'UBOB' }, reason: 'INC-2' } }], T0 + DAY);
  await log.append([{ type: 'review.approved', actor: { id: 'ULEAD', via: 'slack' }, requestId: 'ra', data: { stage: 0 } }], T0 + 2 * DAY);
  await log.append([{ type: 'request.approved', actor: { id: 'ULEAD', via: 'slack' }, requestId: 'ra', data: {} }], T0 + 3 * DAY);
  await log.append([{ type: 'cert.issued', actor: { id: 'system', via: 'system' }, requestId: 'ra', data: { serial: '1' } }], T0 + 4 * DAY);
  await log.append([{ type: 'request.denied', actor: { id: 'ULEAD', via: 'slack' }, requestId: 'rb', data: {} }], T0 + 5 * DAY);
});
afterEach(() => t.cleanup());

async function rewriteStream(mutate: (entries: [string, string[]][]) => [string, string[]][]) {
  const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
  const changed = mutate(entries);
  await t.redis.del(t.keys.auditStream);
  for (const [id, fields] of changed) await t.redis.xadd(t.keys.auditStream, id, ...fields);
}

function field(fields: string[], name: string): string {
  return fields[fields.indexOf(name) + 1]!;
}
function withField(fields: string[], name: string, value: string): string[] {
  const copy = [...fields];
  copy[copy.indexOf(name) + 1] = value;
  return copy;
}

describe('access-bot audit verify', () => {
  it('exits 0 and prints the count and head of an intact log', async () => {
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(0);
    const head = await log.head();
    expect(r.stdout).toBe(`ok: 6 events, chain unbroken; head 6:${head.hash}\n`);
  });

  it('names the first altered event', async () => {
    await rewriteStream((entries) =>
      entries.map(([id, f], i) => [id, i === 2 ? withField(f, 'body', field(f, 'body').replace('"stage":0', '"stage":1')) : f]),
    );
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 3 \(stream id \d+-\d+\): hash does not match the content: the event was altered/);
    expect(r.stdout).toMatch(/2 events before it verified/);
  });

  it('names the place where an event was removed', async () => {
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.xdel(t.keys.auditStream, entries[3]![0]);
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 5 .*expected event 4 but found event 5: events missing or out of order/);
  });

  it('catches an event removed from the end through the head', async () => {
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.xdel(t.keys.auditStream, entries[5]![0]);
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 6: the log ends at 5 but its head says 6/);
  });

  it('names the first reordered event', async () => {
    await rewriteStream((entries) => {
      const out = [...entries];
      const [a, b] = [out[1]!, out[2]!];
      out[1] = [a[0], b[1]];
      out[2] = [b[0], a[1]];
      return out;
    });
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 3 .*expected event 2 but found event 3/);
  });

  it('catches reordering that renumbers the events through the hash links', async () => {
    await rewriteStream((entries) => {
      const out = [...entries];
      const [a, b] = [out[1]!, out[2]!];
      out[1] = [a[0], withField(b[1], 'seq', '2')];
      out[2] = [b[0], withField(a[1], 'seq', '3')];
      return out;
    });
    const r = await runCli(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 2 .*previous-hash link does not match/);
  });

  it('an anchor recorded earlier exposes a wholesale rewrite that recomputed every hash', async () => {
    const before = await log.head();
    // Rewrite history consistently: a fresh chain with one event changed.
    const events: AuditEvent[] = [];
    for await (const e of log.read()) events.push(e);
    await t.redis.del(t.keys.auditStream, t.keys.auditHead);
    for (const e of events)
      await log.append([{ type: e.type, actor: e.actor, ...(e.requestId ? { requestId: e.requestId } : {}), data: e.type === 'request.denied' ? { forged: true } : e.data }], Date.parse(e.at));
    expect((await runCli(['audit', 'verify'], env)).code).toBe(0);
    const r = await runCli(['audit', 'verify', '--anchor', `${before.seq}:${before.hash}`], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/does not contain the anchor/);
  });

  it('verifies an exported file offline, and catches an edit to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, (await runCli(['audit', 'export'], env)).stdout);
    expect((await runCli(['audit', 'verify', '--file', file])).stdout).toMatch(/^ok: 6 events/);

    const lines = readFileSync(file, 'utf8').split('\n');
    // Line 0 is the export's header; event 5 is on line 5.
    lines[5] = lines[5]!.replace('"serial":"1"', '"serial":"2"');
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 5 \(stream id [\d-]+\): hash does not match/);
  });

  it('rejects a malformed anchor as a usage error', async () => {
    const r = await runCli(['audit', 'verify', '--anchor', 'nope'], env);
    expect(r.code).toBe(2);
  });
});

describe('access-bot audit export', () => {
  const exported = async (args: string[]) => {
    const r = await runCli(['audit', 'export', ...args], env);
    expect(r.code).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent)
      .filter((e) => !('auditExport' in e));
  };

  it('prints every event as a JSON line with its chain fields', async () => {
    const events = await exported([]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0]).toMatchObject({ type: 'request.created', requestId: 'ra', prev: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('filters by request', async () => {
    expect((await exported(['--request', 'rb'])).map((e) => e.type)).toEqual(['request.created', 'request.denied']);
  });

  it('filters by user: what they did and everything about their requests', async () => {
    expect((await exported(['--user', 'UALICE'])).map((e) => e.seq)).toEqual([1, 3, 4, 5]);
    expect((await exported(['--user', 'ULEAD'])).map((e) => e.seq)).toEqual([3, 4, 6]);
  });

  it('filters by time window and type family', async () => {
    const since = new Date(T0 + 2 * DAY).toISOString();
    const until = new Date(T0 + 4 * DAY).toISOString();
    expect((await exported(['--since', since, '--until', until])).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await exported(['--type', 'request'])).map((e) => e.seq)).toEqual([1, 2, 4, 6]);
  });

  it('refuses a time it cannot read', async () => {
    const r = await runCli(['audit', 'export', '--since', 'yesterday-ish'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/neither a date/);
  });
});
