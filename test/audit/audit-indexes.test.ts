import type { Redis } from 'ioredis';
import { bodyHash, chainHash, GENESIS_HASH } from '../../src/audit/audit-chain';
import type { AuditBody, AuditEvent } from '../../src/audit/audit-event';
import { auditFilter } from '../../src/audit/audit-filter';
import { exportAuditLog } from '../../src/audit/audit-exporter';
import { canonicalJson } from '../../src/audit/canonical-json';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import type { AuditInput } from '../../src/engine/types';
import { runCli } from '../helpers/cli';
import { testRedis } from '../helpers/redis';

/**
 * `audit export --request/--user` read the indexes the append script keeps instead of the whole
 * log, and `audit verify --since SEQ --anchor SEQ:HASH` walks only what came after a proved head.
 */

let t: ReturnType<typeof testRedis>;
let log: RedisAuditLog;
let env: NodeJS.ProcessEnv;
const T0 = Date.now() - 3_600_000;

beforeEach(() => {
  t = testRedis('auditidx');
  log = new RedisAuditLog(t.redis, t.keys);
  env = { REDIS_PREFIX: t.prefix };
});
afterEach(() => t.cleanup());

/** Counts stream entries Redis hands back to this connection (XRANGE replies), to show what a read costs. */
function countEntriesRead(redis: Redis): () => number {
  let entries = 0;
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string; promise: Promise<unknown> }) => {
    const result = original(command as never);
    if (command.name === 'xrange') command.promise.then((r) => (entries += Array.isArray(r) ? r.length : 0)).catch(() => undefined);
    return result;
  }) as typeof redis.sendCommand;
  return () => entries;
}

/** An event as the format-1 script wrote it, before indexes existed. */
async function appendUnindexed(body: AuditBody): Promise<void> {
  const [seqText, prevText] = await t.redis.hmget(t.keys.auditHead, 'seq', 'hash');
  const seq = Number(seqText ?? 0) + 1;
  const prev = prevText ?? GENESIS_HASH;
  const hash = chainHash(prev, bodyHash(body), seq);
  await t.redis.xadd(t.keys.auditStream, '*', 'seq', seq, 'prev', prev, 'hash', hash, 'body', canonicalJson(body));
  await t.redis.hset(t.keys.auditHead, 'seq', seq, 'hash', hash);
}

const created = (id: string, user: string): AuditInput => ({ type: 'request.created', actor: { id: user, via: 'slack' }, requestId: id, data: { requester: { id: user }, resource: 'box' } });
const approved = (id: string, by: string): AuditInput => ({ type: 'request.approved', actor: { id: by, via: 'slack' }, requestId: id, data: {} });
const issued = (id: string): AuditInput => ({ type: 'cert.issued', actor: { id: 'system', via: 'system' }, requestId: id, data: { serial: '1' } });

async function exported(filter: Parameters<typeof exportAuditLog>[1]): Promise<number[]> {
  const lines: string[] = [];
  await exportAuditLog(log, filter, (l) => lines.push(l));
  return lines.map((l) => JSON.parse(l) as AuditEvent & { auditExport?: unknown }).filter((e) => e.auditExport === undefined).map((e) => e.seq);
}

async function fullScan(filter: { requestId?: string; user?: string }): Promise<number[]> {
  const keep = auditFilter(filter);
  const out: number[] = [];
  for await (const e of log.read()) if (keep(e)) out.push(e.seq);
  return out;
}

it('--request and --user give what a full read gives, across events from before the indexes, reading a few entries instead of the log', async () => {
  // Before the upgrade: Alice's request ra is created and approved (no index entries).
  await appendUnindexed({ type: 'request.created', at: new Date(T0).toISOString(), actor: { id: 'UALICE', via: 'slack' }, requestId: 'ra', data: { requester: { id: 'UALICE' } } });
  await appendUnindexed({ type: 'request.approved', at: new Date(T0 + 1).toISOString(), actor: { id: 'ULEAD', via: 'slack' }, requestId: 'ra', data: {} });
  // After: ra is issued; 300 events of other people; Alice makes rb, which Bob approves; an admin names her.
  await log.append([issued('ra')], T0 + 2);
  for (let i = 0; i < 100; i++) await log.append([created(`rx${i}`, `U${i}`), approved(`rx${i}`, 'ULEAD'), issued(`rx${i}`)], T0 + 10 + i);
  await log.append([created('rb', 'UALICE')], T0 + 200);
  await log.append([approved('rb', 'UBOB'), issued('rb')], T0 + 201);
  await log.append([{ type: 'access_review.answered', actor: { id: 'UADMIN', via: 'slack' }, data: { user: 'UALICE', keep: false } }], T0 + 202);

  const expectedRb = await fullScan({ requestId: 'rb' });
  const expectedAlice = await fullScan({ user: 'UALICE' });
  const entriesRead = countEntriesRead(t.redis);
  const rb = await exported({ requestId: 'rb' });
  const alice = await exported({ user: 'UALICE' });
  const readForBoth = entriesRead();
  expect(rb).toEqual(expectedRb);
  expect(rb).toHaveLength(3);
  expect(alice).toEqual(expectedAlice);
  expect(alice).toEqual([1, 2, 3, 304, 305, 306, 307]);
  // The pre-index part (2 events) once per export, the rest through the indexes: nowhere near the 307 events of the log.
  expect(readForBoth).toBeLessThan(30);
  expect(await exported({ user: 'UBOB' })).toEqual(await fullScan({ user: 'UBOB' }));
  expect(await exported({ requestId: 'ra' })).toEqual([1, 2, 3]);
  expect(await exported({ requestId: 'nope' })).toEqual([]);
});

it('--since reads from the stream ids around the window, not from the first event', async () => {
  const now = Date.now();
  for (let i = 0; i < 50; i++) await log.append([issued(`old${i}`)], now - 1000);
  const entriesRead = countEntriesRead(t.redis);
  // Events stored an hour "later" than the window start are all that is read.
  const seqs = await exported({ since: new Date(now + 3_600_000).toISOString() });
  expect(seqs).toEqual([]);
  expect(entriesRead()).toBe(0);
});

describe('audit verify --since SEQ --anchor SEQ:HASH', () => {
  async function logWithAnchor() {
    for (let i = 0; i < 40; i++) await log.append([created(`r${i}`, `U${i}`)], T0 + i);
    const anchor = await log.head();
    for (let i = 40; i < 45; i++) await log.append([created(`r${i}`, `U${i}`)], T0 + i);
    return anchor;
  }

  async function rewrite(seq: number, edit: (body: string) => string) {
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.del(t.keys.auditStream);
    for (const [id, fields] of entries) {
      const copy = [...fields];
      if (copy[copy.indexOf('seq') + 1] === String(seq)) copy[copy.indexOf('body') + 1] = edit(copy[copy.indexOf('body') + 1]!);
      await t.redis.xadd(t.keys.auditStream, id, ...copy);
    }
  }

  it('proves the events after the anchor, and does not re-read the ones before it', async () => {
    const anchor = await logWithAnchor();
    const head = await log.head();
    // An event before the anchor altered since the anchor was proved: an incremental run does not
    // read it (a full run would name it), which is what makes it cheap.
    await rewrite(12, (b) => b.replace('"U11"', '"U98"'));
    const r = await runCli(['audit', 'verify', '--since', String(anchor.seq), '--anchor', `${anchor.seq}:${anchor.hash}`], env);
    expect(r.stdout).toBe(`ok: 5 events after the anchor 40, chain unbroken; head 45:${head.hash}\n`);
    expect(r.code).toBe(0);
    expect((await runCli(['audit', 'verify'], env)).stdout).toMatch(/^BROKEN at event 12 /);
  });

  it('finds the anchor event among events stored in the same millisecond', async () => {
    // One append of many events: they share stream-id milliseconds.
    await log.append(Array.from({ length: 30 }, (_, i) => created(`m${i}`, `U${i}`)), T0);
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    expect(new Set(entries.map(([id]) => id.split('-')[0])).size).toBeLessThan(30);
    for (let seq = 1; seq <= 30; seq++) expect(await log.locate(seq)).toBe(entries[seq - 1]![0]);
    expect(await log.locate(31)).toBeUndefined();
  });

  it('names an altered event after the anchor, and an anchor the log no longer holds', async () => {
    const anchor = await logWithAnchor();
    await rewrite(43, (b) => b.replace('"U42"', '"U99"'));
    const altered = await runCli(['audit', 'verify', '--since', '40', '--anchor', `40:${anchor.hash}`], env);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(/^BROKEN at event 43 \(stream id [\d-]+\): hash does not match the content/);

    const wrong = await runCli(['audit', 'verify', '--since', '40', '--anchor', `40:${'ab'.repeat(32)}`], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^BROKEN at event 40 .*does not contain the anchor 40:abab/);
    const beyond = await runCli(['audit', 'verify', '--since', '99', '--anchor', `99:${anchor.hash}`], env);
    expect(beyond.code).toBe(1);
    expect(beyond.stdout).toMatch(/^BROKEN at event 99: the log has no event 99/);
  });

  it('refuses --since without the anchor at that event', async () => {
    const alone = await runCli(['audit', 'verify', '--since', '40'], env);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--since 40 starts from a point you proved before: give it with --anchor 40:HASH/);
    const elsewhere = await runCli(['audit', 'verify', '--since', '40', '--anchor', `39:${'0'.repeat(64)}`], env);
    expect(elsewhere.code).toBe(2);
    expect((await runCli(['audit', 'verify', '--since', 'yesterday', '--anchor', `39:${'0'.repeat(64)}`], env)).stderr).toMatch(/sequence number/);
  });
});
