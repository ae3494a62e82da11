import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PendingChangeStore } from '../access-review/pending-change-store';
import { createRedis } from '../app/redis-connection';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { loadEnv } from '../config/env';
import { accessReviewHtml } from '../reports/access-review-html';
import { buildAccessReview, buildSoc2 } from '../reports/build-report';
import { accessReviewCsv, soc2Csv } from '../reports/report-csv';
import { parsePeriod, periodBetween } from '../reports/report-period';
import { openReportSource } from '../reports/report-source';
import { soc2Html } from '../reports/soc2-html';
import { RedisKeys } from '../store/redis-keys';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandOf } from './parse-options';
import { parseTimeOption } from './parse-time';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot report access-review --since T --until T [--format html|csv|json] [--source redis|postgres|FILE] [--out FILE]
      Every grant of the period (who, what, principals, when, how long, approved by whom through
      which channel, break-glass and its review, early revocation), refused attempts grouped by
      kind, access per person and resource, and anomalies. The chain's verification heads it.
  access-bot report soc2 --period 2026-Q3 [--format html|csv|json] [--source …] [--out FILE]
      One section per SOC 2 control row (CC6.1–CC6.7, CC7.2–CC7.5, CC8.1) with counts and sampled
      request ids from the log. Periods: 2026-Q3, 2026-08, 2026.
  access-bot report pending-changes [--json] [--close ID --note TEXT]
      Removals that access reviewers asked for, waiting for an admin to edit the workflow files;
      --close records that one is done (audited).

T is a date (2026-07-01, 2026-07-01T09:00:00Z) or a duration meaning "that long ago" (30d).
--source defaults to the PostgreSQL archive when AUDIT_DATABASE_URL is set, else Redis; a file
is a JSON-lines export (\`audit export\`) or a sink's file. The default format is html.
Exit codes: 0 report written, 1 the audit chain did not verify (the report says where), 2 bad
command line, 3 could not run.
`;

export const reportCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['access-review', 'soc2', 'pending-changes'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  if (command.sub === 'pending-changes') return pendingChanges(command.rest, io);
  const { values, positionals } = parseOptions(
    {
      args: command.rest,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        period: { type: 'string' },
        format: { type: 'string' },
        source: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    },
    HELP,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  rejectPositionals(positionals, HELP);
  const format = values.format ?? 'html';
  if (format !== 'html' && format !== 'csv' && format !== 'json') throw new UsageError(`--format is html, csv or json, not "${format}".`);
  const now = Date.now();
  let period;
  if (command.sub === 'soc2') {
    if (values.period === undefined) throw new UsageError(`soc2 needs --period, e.g. --period 2026-Q3.\n\n${HELP}`);
    try {
      period = parsePeriod(values.period);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  } else {
    if (values.since === undefined || values.until === undefined) throw new UsageError(`access-review needs --since and --until.\n\n${HELP}`);
    try {
      period = periodBetween(parseTimeOption('since', values.since, now), parseTimeOption('until', values.until, now));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError((err as Error).message);
    }
  }
  const env = loadEnv(io.env);
  const spec = values.source ?? (env.AUDIT_DATABASE_URL ? 'postgres' : 'redis');
  const source = openReportSource(spec === 'redis' || spec === 'postgres' ? spec : path.resolve(io.cwd, spec), env);
  let text: string;
  let chainOk: boolean;
  try {
    if (command.sub === 'soc2') {
      const report = await buildSoc2(source, period, now);
      chainOk = report.chain.ok;
      text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'csv' ? soc2Csv(report) : soc2Html(report);
    } else {
      const report = await buildAccessReview(source, period, now);
      chainOk = report.chain.ok;
      text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'csv' ? accessReviewCsv(report) : accessReviewHtml(report);
    }
  } finally {
    await source.close();
  }
  if (values.out !== undefined) {
    await writeFile(path.resolve(io.cwd, values.out), text);
    io.stderr.write(`wrote ${values.out}${chainOk ? '' : ' (the audit chain did NOT verify: see the top of the report)'}\n`);
  } else io.stdout.write(text);
  return chainOk ? EXIT.OK : EXIT.NEGATIVE;
};

async function pendingChanges(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(
    { args: rest, options: { json: { type: 'boolean' }, close: { type: 'string' }, note: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true },
    HELP,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  rejectPositionals(positionals, HELP);
  const env = loadEnv(io.env);
  const redis = createRedis(env.REDIS_URL, { name: 'access-bot-cli', ...(env.redisTls ? { tls: env.redisTls } : {}) });
  const keys = new RedisKeys(env.REDIS_PREFIX);
  const store = new PendingChangeStore(redis, keys, new RedisAuditLog(redis, keys));
  try {
    if (values.close !== undefined) {
      if (!values.note?.trim()) throw new UsageError('--close needs --note saying what was changed (e.g. the commit that edited the workflow file).');
      const actor = `cli:${io.env.USER ?? io.env.LOGNAME ?? 'unknown'}`;
      const closed = await store.close(values.close, actor, values.note.trim());
      if (!closed.ok) {
        io.stderr.write(`${closed.message}\n`);
        return EXIT.NEGATIVE;
      }
      io.stdout.write(`closed ${values.close}\n`);
      return EXIT.OK;
    }
    const changes = await store.list();
    if (values.json) io.stdout.write(`${JSON.stringify(changes, null, 2)}\n`);
    else if (changes.length === 0) io.stdout.write('no pending changes\n');
    else
      io.stdout.write(
        `${changes
          .map((c) => `${c.id}  ${c.state === 'open' ? 'OPEN  ' : 'closed'}  remove ${c.user} from ${c.resource}: ${c.instruction} (asked by ${c.requestedBy} in ${c.review} ${c.period}, ${new Date(c.at).toISOString()})${c.state === 'closed' ? ` — closed by ${c.closedBy}: ${c.note}` : ''}`)
          .join('\n')}\n`,
      );
    return EXIT.OK;
  } finally {
    await redis.quit();
  }
}
