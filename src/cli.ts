#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AccessBotError } from './errors/access-bot-error';
import { didYouMean } from './slack/commands/did-you-mean';
import { ConfigError } from './errors/config-error';
import { EXIT, processIo, type CliCommand, type CliIo } from './cli/cli-io';
import { UsageError } from './cli/usage-error';

/** Each command group lives in its own module, loaded only when called. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  start: { summary: 'run bot and worker in one process', load: async () => (require('./cli/start-command') as typeof import('./cli/start-command')).startCommand },
  serve: { summary: 'run the bot: Slack, webhooks, HTTP endpoints', load: async () => (require('./cli/start-command') as typeof import('./cli/start-command')).serveCommand },
  worker: { summary: 'run the CA worker and timers (reads CA keys)', load: async () => (require('./cli/start-command') as typeof import('./cli/start-command')).workerCommand },
  ca: { summary: 'init | rotate | show the certificate authorities', load: async () => (require('./cli/ca-command') as typeof import('./cli/ca-command')).caCommand },
  cert: { summary: 'sign | revoke | show certificates (admin)', load: async () => (require('./cli/cert-command') as typeof import('./cli/cert-command')).certCommand },
  workflows: { summary: 'check | simulate | schema: the workflow files', load: async () => (require('./cli/workflows-command') as typeof import('./cli/workflows-command')).workflowsCommand },
  audit: { summary: 'verify | export the audit log', load: async () => (require('./cli/audit-command') as typeof import('./cli/audit-command')).auditCommand },
  redis: { summary: 'acl: the Redis ACL rules for the bot and the worker', load: async () => (require('./cli/redis-command') as typeof import('./cli/redis-command')).redisCommand },
  db: { summary: 'migrate | status: the PostgreSQL audit archive', load: async () => (require('./cli/db-command') as typeof import('./cli/db-command')).dbCommand },
  report: { summary: 'access-review | soc2 | pending-changes: evidence for auditors', load: async () => (require('./cli/report-command') as typeof import('./cli/report-command')).reportCommand },
};

/** The version in package.json (next to dist/ and src/ alike). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: access-bot <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `access-bot <command> --help` for the options of a command; `access-bot --version` prints the version.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout.write(`access-bot ${version()}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    const meant = didYouMean(name, Object.keys(COMMANDS));
    io.stderr.write(`Unknown command "${name}".${meant ? ` Did you mean "${meant}"?` : ''}\n\n${usage()}`);
    return EXIT.USAGE;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof ConfigError || err instanceof AccessBotError) {
      io.stderr.write(`${err.code}: ${err.message}\n`);
      return EXIT.FAILURE;
    }
    io.stderr.write(`access-bot ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILURE;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Long-running commands (start, serve, worker) resolve only when they have shut down.
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = EXIT.FAILURE;
    },
  );
}
