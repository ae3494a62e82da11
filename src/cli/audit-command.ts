import path from 'node:path';
import { verifyChain, type VerifyResult } from '../audit/audit-chain';
import type { ExportFilter } from '../audit/audit-export-format';
import { exportAuditLog } from '../audit/audit-exporter';
import { describeExportFile, verifyExportFile } from '../audit/export-file-verifier';
import { readAuditExport } from '../audit/jsonl-file-reader';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { createRedis } from '../app/redis-connection';
import { loadEnv } from '../config/env';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { RedisKeys } from '../store/redis-keys';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, subcommandHelp, subcommandOf } from './parse-options';
import { parseTimeOption } from './parse-time';
import { UsageError } from './usage-error';
import { verifyArchive } from './audit-verify-archive';
import type { OverlapResult } from '../audit/postgres/archive-overlap';

const HELP = `Usage:
  access-bot audit verify [--source redis|postgres] [--file FILE] [--anchor SEQ:HASH [--since SEQ]] [--json]
      Proves the audit log unbroken (exit 0, prints the count and head hash), or names the first
      bad event (exit 1). --file verifies an exported JSON-lines file instead of Redis: its trailer
      shows a cut end; it says what it cannot prove (a file with no trailer, a filtered export).
      --source postgres verifies the archive (AUDIT_DATABASE_URL) from its first event and checks
      that its head matches Redis where both hold events. Redis is verified from its chain anchor
      when retention trimmed archived events.
      --anchor checks that the log still contains a head you recorded earlier.
      --since SEQ, with --anchor SEQ:HASH at that event, verifies only the events after it: run it
      with the head the last run printed to prove the log incrementally.
  access-bot audit export [--since T] [--until T] [--request ID] [--user U] [--type TYPE]
      Prints events as JSON lines between a header line and a trailer line (count, last event,
      the log's head, the filter). T is a date (2026-11-01, 2026-11-01T09:00:00Z) or a duration
      meaning "that long ago" (24h, 7d). --user keeps what the user did and every event of their
      requests. --type keeps one type or a family (request, review, cert, breakglass…).
`;

/** Every event type, and every family (`request`, `cert`…), `--type` can name. */
export function knownAuditTypes(): { types: string[]; families: string[] } {
  const types = [...new Set<string>(Object.values(AUDIT_EVENT_TYPES))].sort();
  const families = [...new Set(types.map((t) => t.slice(0, t.indexOf('.'))))].sort();
  return { types, families };
}

/** An unknown `--type` would export nothing and look like an empty log: refuse it and list what exists. */
function checkAuditType(type: string, help: string): void {
  const { types, families } = knownAuditTypes();
  if (types.includes(type) || families.includes(type)) return;
  throw new UsageError(`--type "${type}" is not an audit event type.\nFamilies: ${families.join(', ')}\nTypes: ${types.join(', ')}\n\n${help}`);
}

export const auditCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['verify', 'export'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  return command.sub === 'verify' ? verify(command.rest, io) : exportEvents(command.rest, io);
};


function openLog(io: CliIo) {
  const env = loadEnv(io.env);
  const redis = createRedis(env.REDIS_URL, { name: 'access-bot-cli', ...(env.redisTls ? { tls: env.redisTls } : {}) });
  return { log: new RedisAuditLog(redis, new RedisKeys(env.REDIS_PREFIX)), close: () => redis.quit() };
}

async function verify(rest: string[], io: CliIo): Promise<number> {
  const help = subcommandHelp(HELP, 'verify');
  const { values } = parseOptions(
    {
      args: rest,
      options: {
        file: { type: 'string' },
        source: { type: 'string' },
        anchor: { type: 'string' },
        since: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    },
    help,
  );
  if (values.help) {
    io.stdout.write(help);
    return EXIT.OK;
  }
  let anchor: { seq: number; hash: string } | undefined;
  if (typeof values.anchor === 'string') {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(values.anchor);
    if (!m) throw new UsageError('--anchor takes SEQ:HASH as printed by an earlier `audit verify`.');
    anchor = { seq: Number(m[1]), hash: m[2]! };
  }

  let since: number | undefined;
  if (typeof values.since === 'string') {
    if (!/^\d{1,15}$/.test(values.since)) throw new UsageError(`--since takes an event's sequence number (SEQ), not "${values.since}".\n\n${help}`);
    since = Number(values.since);
    if (!anchor || anchor.seq !== since)
      throw new UsageError(`--since ${since} starts from a point you proved before: give it with --anchor ${since}:HASH (the head an earlier \`audit verify\` printed).\n\n${help}`);
    if (typeof values.file === 'string' || (values.source ?? 'redis') !== 'redis') throw new UsageError(`--since verifies the Redis log; use it without --file and --source.\n\n${help}`);
    return verifySince(io, anchor, values.json === true);
  }

  if (typeof values.file === 'string') {
    // An export file has its own scope (full, range, selection) and end (the trailer): see export-file-verifier.
    const report = await verifyExportFile(readAuditExport(path.resolve(io.cwd, values.file)), anchor);
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describeExportFile(report));
    return report.ok ? EXIT.OK : EXIT.NEGATIVE;
  }

  let result: VerifyResult;
  let anchorFound = anchor === undefined;
  const checkAnchor = async function* <E extends { seq: number; hash: string }>(events: AsyncIterable<E>) {
    for await (const e of events) {
      if (anchor && e.seq === anchor.seq) anchorFound = e.hash === anchor.hash;
      yield e;
    }
  };
  const source = values.source ?? 'redis';
  if (source !== 'redis' && source !== 'postgres') throw new UsageError(`--source is redis or postgres, not "${source}".`);
  let from: { seq: number; hash: string } | undefined;
  let overlap: OverlapResult | undefined;
  if (source === 'postgres') {
    ({ result, overlap } = await verifyArchive(io, checkAnchor));
  } else {
    const { log, close } = openLog(io);
    try {
      from = await log.anchor();
      const head = await log.head();
      result = await verifyChain(checkAnchor(log.read({ toSeq: head.seq })), head, from);
      // The retention anchor is itself a chain point Redis still proves from.
      if (anchor && from && anchor.seq === from.seq) anchorFound = anchor.hash === from.hash;
      else if (anchor && from && anchor.seq < from.seq && result.ok)
        result = {
          ok: false,
          count: result.count,
          firstBad: { seq: anchor.seq, problem: `the anchor ${anchor.seq} is older than what Redis keeps (from ${from.seq + 1}): check it against the archive with --source postgres` },
        };
    } finally {
      await close();
    }
  }
  if (result.ok && overlap && !overlap.ok) result = { ok: false, count: result.count, firstBad: { seq: overlap.seq, problem: overlap.message } };

  if (result.ok && !anchorFound) {
    result = {
      ok: false,
      count: result.count,
      firstBad: { seq: anchor!.seq, problem: `the log does not contain the anchor ${anchor!.seq}:${anchor!.hash}: history was rewritten or cut` },
    };
  }
  if (values.json) io.stdout.write(`${JSON.stringify({ ...result, ...(from ? { from } : {}), ...(overlap ? { redis: overlap.message } : {}) })}\n`);
  else if (result.ok)
    io.stdout.write(
      `ok: ${result.count} events${from ? ` after the anchor ${from.seq} (earlier events are in the archive)` : ''}, chain unbroken; head ${result.head.seq}:${result.head.hash}\n` +
        (overlap ? `${overlap.message}\n` : ''),
    );
  else
    io.stdout.write(
      `BROKEN at event ${result.firstBad.seq}${result.firstBad.id ? ` (stream id ${result.firstBad.id})` : ''}: ${result.firstBad.problem}\n` +
        `${result.count} events before it verified.\n`,
    );
  return result.ok ? EXIT.OK : EXIT.NEGATIVE;
}

/**
 * Verifies only what was appended after an anchor proved by an earlier run: finds the anchor's
 * event by bisecting the stream, checks its hash is the one recorded, and walks the chain from it.
 */
async function verifySince(io: CliIo, anchor: { seq: number; hash: string }, json: boolean): Promise<number> {
  const { log, close } = openLog(io);
  let result: VerifyResult;
  try {
    const head = await log.head();
    const id = await log.locate(anchor.seq);
    const [at] = id ? await collect(log.read({ fromId: id, toSeq: anchor.seq, batch: 1 })) : [];
    if (!at) {
      const trimmed = await log.anchor();
      const problem =
        trimmed && trimmed.seq >= anchor.seq
          ? `event ${anchor.seq} was trimmed from Redis (it keeps events after ${trimmed.seq}): verify from the retention anchor, or the archive with --source postgres`
          : `the log has no event ${anchor.seq}: history was cut`;
      result = { ok: false, count: 0, firstBad: { seq: anchor.seq, problem } };
    } else if (at.hash !== anchor.hash) {
      result = { ok: false, count: 0, firstBad: { seq: anchor.seq, ...(at.id ? { id: at.id } : {}), problem: `the log does not contain the anchor ${anchor.seq}:${anchor.hash}: history was rewritten` } };
    } else {
      const after = async function* () {
        for await (const event of log.read({ fromId: id!, toSeq: head.seq })) if (event.seq > anchor.seq) yield event;
      };
      result = await verifyChain(after(), head, anchor);
    }
  } finally {
    await close();
  }
  if (json) io.stdout.write(`${JSON.stringify({ ...result, from: anchor })}\n`);
  else if (result.ok) io.stdout.write(`ok: ${result.count} events after the anchor ${anchor.seq}, chain unbroken; head ${result.head.seq}:${result.head.hash}\n`);
  else
    io.stdout.write(
      `BROKEN at event ${result.firstBad.seq}${result.firstBad.id ? ` (stream id ${result.firstBad.id})` : ''}: ${result.firstBad.problem}\n` +
        `${result.count} events after the anchor verified.\n`,
    );
  return result.ok ? EXIT.OK : EXIT.NEGATIVE;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function exportEvents(rest: string[], io: CliIo): Promise<number> {
  const help = subcommandHelp(HELP, 'export');
  const { values } = parseOptions(
    {
      args: rest,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        request: { type: 'string' },
        user: { type: 'string' },
        type: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    },
    help,
  );
  if (values.help) {
    io.stdout.write(help);
    return EXIT.OK;
  }
  const now = Date.now();
  const iso = (name: 'since' | 'until', value: unknown) =>
    typeof value === 'string' ? { [name]: new Date(parseTimeOption(name, value, now)).toISOString() } : {};
  const filter: ExportFilter = {
    ...iso('since', values.since),
    ...iso('until', values.until),
    ...(typeof values.request === 'string' ? { requestId: values.request } : {}),
    ...(typeof values.user === 'string' ? { user: values.user } : {}),
    ...(typeof values.type === 'string' ? { type: values.type } : {}),
  };
  if (typeof values.type === 'string') checkAuditType(values.type, help);
  const { log, close } = openLog(io);
  try {
    await exportAuditLog(log, filter, (line) => io.stdout.write(line));
  } finally {
    await close();
  }
  return EXIT.OK;
}
