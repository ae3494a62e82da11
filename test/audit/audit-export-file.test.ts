import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { runCli } from '../helpers/cli';
import { testRedis } from '../helpers/redis';

/**
 * Issue 7, item 9: `audit verify --file` could not see a cut tail. An export carries its head in a
 * trailer line that verify checks; a file without one verifies what it can and says it cannot
 * rule out truncation; a filtered export is verified as a selection, never as an unbroken chain.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 9, 0, 0);

let t: ReturnType<typeof testRedis>;
let log: RedisAuditLog;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeEach(async () => {
  t = testRedis('audit-file');
  log = new RedisAuditLog(t.redis, t.keys);
  env = { REDIS_PREFIX: t.prefix };
  dir = mkdtempSync(join(tmpdir(), 'audit-file-'));
  // Eight events over eight days: two requests by two users, then two config loads.
  const events = [
    { type: 'request.created', actor: { id: 'UALICE', via: 'slack' as const }, requestId: 'ra', data: { requester: { id: 'UALICE' }, reason: 'INC-1' } },
    { type: 'request.created', actor: { id: 'UBOB', via: 'slack' as const }, requestId: 'rb', data: { requester: { id: 'UBOB' }, reason: 'INC-2' } },
    { type: 'review.approved', actor: { id: 'ULEAD', via: 'slack' as const }, requestId: 'ra', data: { stage: 0 } },
    { type: 'request.approved', actor: { id: 'ULEAD', via: 'slack' as const }, requestId: 'ra', data: {} },
    { type: 'cert.issued', actor: { id: 'system', via: 'system' as const }, requestId: 'ra', data: { serial: '1' } },
    { type: 'request.denied', actor: { id: 'ULEAD', via: 'slack' as const }, requestId: 'rb', data: {} },
    { type: 'config.loaded', actor: { id: 'system', via: 'system' as const }, data: { process: 'bot' } },
    { type: 'request.revoked', actor: { id: 'ULEAD', via: 'slack' as const }, requestId: 'ra', data: {} },
  ];
  for (const [i, e] of events.entries()) await log.append([e], T0 + i * DAY);
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.cleanup();
});

async function exportTo(name: string, args: string[] = []): Promise<string> {
  const r = await runCli(['audit', 'export', ...args], env);
  expect(r.code).toBe(0);
  const file = join(dir, name);
  writeFileSync(file, r.stdout);
  return file;
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
}
function isEvent(line: string): boolean {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  return typeof parsed.seq === 'number' && typeof parsed.type === 'string';
}
function writeLines(file: string, content: string[]): void {
  writeFileSync(file, `${content.join('\n')}\n`);
}
async function verifyJson(file: string, extra: string[] = []) {
  const r = await runCli(['audit', 'verify', '--file', file, '--json', ...extra]);
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('audit verify --file: a cut tail', () => {
  it('an export missing its last five events fails, naming the events missing at the end', async () => {
    const file = await exportTo('cut.jsonl');
    const all = lines(file);
    const eventIdx = all.map((l, i) => (isEvent(l) ? i : -1)).filter((i) => i >= 0);
    expect(eventIdx).toHaveLength(8);
    // Drop the last five event lines, keep everything else (the trailer, if there is one).
    const drop = new Set(eventIdx.slice(-5));
    writeLines(file, all.filter((_, i) => !drop.has(i)));

    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 4: the file ends at event 3 but its trailer says the export ends at event 8: 5 events missing at the end/);
    expect(r.stdout).toMatch(/3 events before it verified/);
  });

  it('a file cut before its trailer fails: the trailer is missing', async () => {
    const file = await exportTo('cut-trailer.jsonl');
    // `head -n -3`: the trailer and the last two events are gone.
    writeLines(file, lines(file).slice(0, -3));
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 7: the export trailer is missing: the file ends after event 6 although its header says a trailer follows; the file was cut/);

    const { json } = await verifyJson(file);
    expect(json).toMatchObject({ ok: false, count: 6, firstBad: { seq: 7, problem: expect.stringMatching(/trailer is missing/) } });
  });

  it('the export ends with a trailer that carries the head, count and filter, and is never read as an event', async () => {
    const file = await exportTo('full.jsonl');
    const all = lines(file);
    const header = JSON.parse(all[0]!) as Record<string, unknown>;
    const trailer = JSON.parse(all.at(-1)!) as Record<string, unknown>;
    const head = await log.head();
    for (const meta of [header, trailer]) {
      expect(meta).not.toHaveProperty('type');
      expect(meta).not.toHaveProperty('seq');
      expect(Object.keys(meta)).toEqual(['auditExport']);
    }
    expect(header.auditExport).toMatchObject({ version: 1, part: 'header', scope: 'full', filter: {} });
    expect(trailer.auditExport).toEqual({
      version: 1,
      part: 'trailer',
      scope: 'full',
      filter: {},
      count: 8,
      last: { seq: 8, hash: head.hash },
      head: { seq: 8, hash: head.hash },
    });
    expect(all.slice(1, -1).every(isEvent)).toBe(true);

    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok: 8 events, chain unbroken; head 8:${head.hash}\n`));
    expect(r.stdout).toMatch(/complete as exported: the file holds all 8 events up to the export's head 8:/);
    expect(r.stdout).not.toMatch(/cannot rule out truncation/);
    const { json } = await verifyJson(file);
    expect(json).toMatchObject({ ok: true, count: 8, scope: 'full', truncationRuledOut: true, head: { seq: 8, hash: head.hash } });
  });

  it('a file without a trailer (an export from before trailers) still verifies, and says it cannot rule out truncation', async () => {
    const file = join(dir, 'legacy.jsonl');
    const events: AuditEvent[] = [];
    for await (const e of log.read()) events.push(e);
    writeLines(file, events.slice(0, 3).map((e) => JSON.stringify(e)));

    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 3 events, chain unbroken; head 3:[0-9a-f]{64}\n/);
    expect(r.stdout).toMatch(/\nnot proven: that no events were cut from the end: the file has no export trailer and no --anchor was given, so this cannot rule out truncation\n/);
    const { code, json } = await verifyJson(file);
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, count: 3, scope: 'full', truncationRuledOut: false });
    expect(json.notProven).toEqual(expect.arrayContaining([expect.stringMatching(/cannot rule out truncation/)]));
  });

  it('an anchor on a file without a trailer proves the file reaches it, and says events after it are not proven', async () => {
    const events: AuditEvent[] = [];
    for await (const e of log.read()) events.push(e);
    const file = join(dir, 'legacy-anchored.jsonl');
    writeLines(file, events.slice(0, 5).map((e) => JSON.stringify(e)));
    const r = await runCli(['audit', 'verify', '--file', file, '--anchor', `5:${events[4]!.hash}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/not proven: that nothing after event 5 \(the anchor\) was cut/);

    const beyond = await runCli(['audit', 'verify', '--file', file, '--anchor', `8:${events[7]!.hash}`]);
    expect(beyond.code).toBe(1);
    expect(beyond.stdout).toMatch(/does not contain the anchor 8:/);
  });

  it('lines after the trailer, or a trailer that disagrees with the header, fail', async () => {
    const file = await exportTo('after.jsonl');
    const all = lines(file);
    writeLines(file, [...all, all[3]!]);
    const after = await runCli(['audit', 'verify', '--file', file]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/after the export trailer/);

    const trailer = JSON.parse(all.at(-1)!) as { auditExport: Record<string, unknown> };
    trailer.auditExport.scope = 'selection';
    writeLines(file, [...all.slice(0, -1), JSON.stringify(trailer)]);
    const disagree = await runCli(['audit', 'verify', '--file', file]);
    expect(disagree.code).toBe(1);
    expect(disagree.stdout).toMatch(/trailer does not match the header/);
  });

  it('a trailer rewritten to match a cut tail is caught only by an anchor recorded elsewhere (the trailer is not a signature)', async () => {
    const head = await log.head();
    const file = await exportTo('forged.jsonl');
    const all = lines(file);
    const events = all.slice(1, -1).map((l) => JSON.parse(l) as AuditEvent);
    const kept = events.slice(0, 3);
    const trailer = JSON.parse(all.at(-1)!) as { auditExport: Record<string, unknown> };
    const last = { seq: 3, hash: kept[2]!.hash };
    Object.assign(trailer.auditExport, { count: 3, last, head: last });
    writeLines(file, [all[0]!, ...kept.map((e) => JSON.stringify(e)), JSON.stringify(trailer)]);

    const alone = await runCli(['audit', 'verify', '--file', file]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(/the trailer is not signed/);
    const anchored = await runCli(['audit', 'verify', '--file', file, '--anchor', `${head.seq}:${head.hash}`]);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toMatch(/does not contain the anchor 8:/);
  });
});

describe('audit verify --file: filtered and ranged exports', () => {
  it('a filtered export verifies as a selection: it says what it proves and never claims an unbroken chain', async () => {
    const file = await exportTo('request-ra.jsonl', ['--request', 'ra']);
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/unbroken/);
    expect(r.stdout).toMatch(/^ok: 5 events of a selection \(--request ra\), each matching its hash, in log order; last 8:[0-9a-f]{64}\n/);
    expect(r.stdout).toMatch(/the file holds the 5 events its trailer lists, ending at event 8/);
    expect(r.stdout).toMatch(/not proven: that the selection is complete or in the log: a selection is not a contiguous chain/);

    const { json } = await verifyJson(file);
    expect(json).toMatchObject({ ok: true, count: 5, scope: 'selection', filter: { requestId: 'ra' }, truncationRuledOut: true });
    expect(json.notProven).toEqual(expect.arrayContaining([expect.stringMatching(/cannot prove that no matching event was left out/)]));
  });

  it('an empty selection verifies as empty, and its trailer still names the head it was taken at', async () => {
    const file = await exportTo('none.jsonl', ['--request', 'no-such-request']);
    const head = await log.head();
    expect(JSON.parse(lines(file).at(-1)!)).toMatchObject({ auditExport: { count: 0, last: null, head: { seq: 8, hash: head.hash } } });
    const { code, json } = await verifyJson(file);
    expect(code).toBe(0);
    expect(json).toMatchObject({ ok: true, count: 0, scope: 'selection', truncationRuledOut: true });
    // Cutting the trailer off an empty export is still caught.
    writeLines(file, lines(file).slice(0, 1));
    expect((await runCli(['audit', 'verify', '--file', file])).stdout).toMatch(/^BROKEN at event 1: the export trailer is missing: the file ends after its header/);
  });

  it('an event removed from inside a selection is caught by the trailer count', async () => {
    const file = await exportTo('type.jsonl', ['--type', 'request']);
    const all = lines(file);
    writeLines(file, [...all.slice(0, 2), ...all.slice(3)]);
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/the file holds 4 events but its trailer lists 5/);
  });

  it('an altered event in a selection is named, and adjacent events must still link', async () => {
    const file = await exportTo('user.jsonl', ['--user', 'UALICE']);
    const all = lines(file);
    const altered = all.map((l) => l.replace('"serial":"1"', '"serial":"2"'));
    writeLines(file, altered);
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BROKEN at event 5 .*hash does not match the content/);
  });

  it('a time-range export is a contiguous part of the chain: links are checked, what came before is said to be unproven', async () => {
    const since = new Date(T0 + 2 * DAY).toISOString();
    const until = new Date(T0 + 5 * DAY).toISOString();
    const file = await exportTo('range.jsonl', ['--since', since, '--until', until]);
    const r = await runCli(['audit', 'verify', '--file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/unbroken/);
    expect(r.stdout).toMatch(/^ok: 4 events, a contiguous part of the chain \(events 3 to 6\)/);
    expect(r.stdout).toMatch(/not proven: what came before event 3: events before 3 are not in the file/);
    const { json } = await verifyJson(file);
    expect(json).toMatchObject({ ok: true, scope: 'range', filter: { since, until }, truncationRuledOut: true });

    const all = lines(file);
    writeLines(file, [...all.slice(0, 2), ...all.slice(3)]);
    const gap = await runCli(['audit', 'verify', '--file', file]);
    expect(gap.code).toBe(1);
    expect(gap.stdout).toMatch(/^BROKEN at event 5 .*expected event 4 but found event 5/);
  });

  it('a range export stays contiguous when process clocks put an event slightly out of time order', async () => {
    const skewed = testRedis('audit-skew');
    try {
      const skewLog = new RedisAuditLog(skewed.redis, skewed.keys);
      // Appended in this order by replicas whose clocks differ by seconds.
      for (const offset of [0, 10_000, 5_000, 20_000, 600_000])
        await skewLog.append([{ type: 'config.loaded', actor: { id: 'system', via: 'system' }, data: { offset } }], T0 + offset);
      const r = await runCli(
        ['audit', 'export', '--since', new Date(T0).toISOString(), '--until', new Date(T0 + 8_000).toISOString()],
        { REDIS_PREFIX: skewed.prefix },
      );
      const seqs = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq?: number })
        .flatMap((e) => (e.seq !== undefined ? [e.seq] : []));
      // Event 2 is stamped after --until but lies between two events inside it.
      expect(seqs).toEqual([1, 2, 3]);
      const file = join(dir, 'skew.jsonl');
      writeFileSync(file, r.stdout);
      expect((await runCli(['audit', 'verify', '--file', file])).stdout).toMatch(/^ok: 3 events, a contiguous part of the chain \(events 1 to 3\)/);
    } finally {
      await skewed.cleanup();
    }
  });
});
