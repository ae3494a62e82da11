import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyHash, chainHash, GENESIS_HASH } from '../../src/audit/audit-chain';
import { canonicalJson } from '../../src/audit/canonical-json';
import type { AuditBody } from '../../src/audit/audit-event';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { runCli } from '../helpers/cli';
import { testRedis } from '../helpers/redis';

/**
 * Logs written before chain format 2 (docs/audit.md) must still prove: an upgrade keeps the events
 * appended by the old script, and during a rolling upgrade old and new replicas interleave.
 */

const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);
let t: ReturnType<typeof testRedis>;
let log: RedisAuditLog;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  t = testRedis('chainfmt');
  log = new RedisAuditLog(t.redis, t.keys);
  env = { REDIS_PREFIX: t.prefix };
});
afterEach(() => t.cleanup());

/** An event appended as the format-1 script did: link SHA-256(prev ‖ SHA-256(body) ‖ seq), same stream fields. */
async function appendFormat1(n: number, at: number): Promise<void> {
  const [seqText, prevText] = await t.redis.hmget(t.keys.auditHead, 'seq', 'hash');
  const seq = Number(seqText ?? 0) + 1;
  const prev = prevText ?? GENESIS_HASH;
  const body: AuditBody = { type: 'request.created', at: new Date(at).toISOString(), actor: { id: 'UALICE', via: 'slack' }, requestId: `old-${n}`, data: { n } };
  const hash = chainHash(prev, bodyHash(body), seq);
  await t.redis.xadd(t.keys.auditStream, '*', 'seq', seq, 'prev', prev, 'hash', hash, 'body', canonicalJson(body));
  await t.redis.hset(t.keys.auditHead, 'seq', seq, 'hash', hash);
}

async function appendFormat2(n: number, at: number): Promise<void> {
  await log.append([{ type: 'request.approved', actor: { id: 'ULEAD', via: 'slack' }, requestId: `new-${n}`, data: { n } }], at);
}

async function alterBody(seq: number): Promise<void> {
  const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
  await t.redis.del(t.keys.auditStream);
  for (const [id, fields] of entries) {
    const copy = [...fields];
    if (copy[copy.indexOf('seq') + 1] === String(seq)) copy[copy.indexOf('body') + 1] = copy[copy.indexOf('body') + 1]!.replace(/"n":(\d+)/, '"n":99$1');
    await t.redis.xadd(t.keys.auditStream, id, ...copy);
  }
}

/** Three old events, then (a rolling upgrade) new and old interleaved, then new only. */
async function mixedLog(): Promise<void> {
  for (let i = 1; i <= 3; i++) await appendFormat1(i, T0 + i);
  await appendFormat2(4, T0 + 4);
  await appendFormat1(5, T0 + 5);
  for (let i = 6; i <= 8; i++) await appendFormat2(i, T0 + i);
}

it('a log of format-1 events, then both formats interleaved, then format 2 verifies from Redis and from an export file', async () => {
  await mixedLog();
  const head = await log.head();
  const r = await runCli(['audit', 'verify'], env);
  expect(r.stdout).toBe(`ok: 8 events, chain unbroken; head 8:${head.hash}\n`);
  expect(r.code).toBe(0);

  const dir = mkdtempSync(join(tmpdir(), 'chainfmt-'));
  try {
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, (await runCli(['audit', 'export'], env)).stdout);
    expect((await runCli(['audit', 'verify', '--file', file])).stdout).toMatch(/^ok: 8 events/);
    // An edit to a new-format event in the file is caught.
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[7] = lines[7]!.replace('"n":7', '"n":8');
    writeFileSync(file, lines.join('\n'));
    const edited = await runCli(['audit', 'verify', '--file', file]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/^BROKEN at event 7 .*hash does not match the content/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it.each([
  ['an old-format event', 2],
  ['the old-format event written during the upgrade', 5],
  ['a new-format event', 7],
])('an altered body in %s is named as the first bad event', async (_what, seq) => {
  await mixedLog();
  await alterBody(seq);
  const r = await runCli(['audit', 'verify'], env);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(new RegExp(`^BROKEN at event ${seq} \\(stream id [\\d-]+\\): hash does not match the content: the event was altered\\n${seq - 1} events before it verified`));
});

it('an event whose stored hash was recomputed with the other format for altered content is still caught at the next link', async () => {
  await mixedLog();
  // Rewrite event 6 (new format) as a format-1 event with altered content and a matching hash:
  // the forger can make one event self-consistent, but event 7's prev still names the old hash.
  const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
  await t.redis.del(t.keys.auditStream);
  for (const [id, fields] of entries) {
    const copy = [...fields];
    if (copy[copy.indexOf('seq') + 1] === '6') {
      const body = JSON.parse(copy[copy.indexOf('body') + 1]!) as AuditBody;
      body.data = { n: 600 };
      copy[copy.indexOf('body') + 1] = canonicalJson(body);
      copy[copy.indexOf('hash') + 1] = chainHash(copy[copy.indexOf('prev') + 1]!, bodyHash(body), 6);
    }
    await t.redis.xadd(t.keys.auditStream, id, ...copy);
  }
  const r = await runCli(['audit', 'verify'], env);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^BROKEN at event 7 .*previous-hash link does not match the event before it/);
});
