import { PostgresAuditArchive } from '../audit/postgres/postgres-audit-archive';
import { LATEST_VERSION, ROLE_PATTERN } from '../audit/postgres/archive-schema';
import { loadEnv, redactUrl } from '../config/env';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { parseOptions, rejectPositionals, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot db migrate [--app-role ROLE]
      Creates or upgrades the audit archive's tables in AUDIT_DATABASE_URL (run it as the
      database owner). --app-role grants ROLE (the role the bot and worker connect as) SELECT and
      INSERT on the archive and nothing else. \`access-bot start\` migrates on its first start.
  access-bot db status
      Prints the schema version and the archive's head.
`;

export const dbCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['migrate', 'status'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  const { values, positionals } = parseOptions(
    { args: command.rest, options: { 'app-role': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true },
    HELP,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  rejectPositionals(positionals, HELP);
  const appRole = values['app-role'];
  if (appRole !== undefined && !ROLE_PATTERN.test(appRole)) throw new UsageError(`--app-role "${appRole}" is not a plain role name (lowercase letters, digits, _).`);
  const archive = open(io);
  try {
    if (command.sub === 'status') {
      const [version, head] = [await archive.schemaVersion(), await archive.head().catch(() => undefined)];
      io.stdout.write(`schema version ${version} (this access-bot needs ${LATEST_VERSION}); ${head ? `head ${head.seq}:${head.hash}` : 'no events archived'}\n`);
      return version === LATEST_VERSION ? EXIT.OK : EXIT.NEGATIVE;
    }
    const applied = await archive.migrate(appRole !== undefined ? { appRole } : {});
    io.stdout.write(
      `${applied.length ? `applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')}` : 'already up to date'}: schema version ${LATEST_VERSION}` +
        `${appRole !== undefined ? `; role ${appRole} may SELECT and INSERT, nothing else` : ''}\n`,
    );
    return EXIT.OK;
  } finally {
    await archive.close();
  }
};

function open(io: CliIo): PostgresAuditArchive {
  const env = loadEnv(io.env);
  if (!env.AUDIT_DATABASE_URL) throw new UsageError('Set AUDIT_DATABASE_URL to the PostgreSQL database of the audit archive.');
  io.stderr.write(`audit archive: ${redactUrl(env.AUDIT_DATABASE_URL)}\n`);
  return new PostgresAuditArchive(env.AUDIT_DATABASE_URL, { max: 1 });
}
