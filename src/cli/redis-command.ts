import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '../config/env';
import { redisAclRules, type RedisRole } from '../store/redis-acl';
import { EXIT, type CliCommand } from './cli-io';
import { parseOptions, rejectPositionals, subcommandOf } from './parse-options';
import { UsageError } from './usage-error';

const HELP = `Usage:
  access-bot redis acl --role bot|worker [--user NAME --password-file FILE]
      Prints the Redis ACL rules for one process, for its own Redis user: the bot may not write
      the CA's published material or revocation list, the worker may not write users' keys, and
      neither may run admin commands or touch keys outside $REDIS_PREFIX.
      With --user and --password-file, prints the whole ACL SETUSER command, quoted for redis-cli:
        access-bot redis acl --role bot --user access-bot-bot --password-file bot.secret | redis-cli --user admin --askpass
      Then give each process its own REDIS_URL (rediss://access-bot-bot:SECRET@host:6379).
`;

export const redisCommand: CliCommand = async (args, io) => {
  const command = subcommandOf(args, ['acl'] as const, HELP, io);
  if ('exit' in command) return command.exit;
  const { values, positionals } = parseOptions(
    {
      args: command.rest,
      options: { role: { type: 'string' }, user: { type: 'string' }, 'password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  if (values.role !== 'bot' && values.role !== 'worker') throw new UsageError(`--role must be bot or worker.\n\n${HELP}`);
  const rules = redisAclRules(loadEnv(io.env).REDIS_PREFIX, values.role as RedisRole);
  if (!values.user) {
    io.stdout.write(`${rules.join(' ')}\n`);
    return EXIT.OK;
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(values.user)) throw new UsageError('--user: letters, digits, _ . - only.');
  if (!values['password-file']) throw new UsageError(`--user needs --password-file (a password never goes on a command line).\n\n${HELP}`);
  const password = readFileSync(path.resolve(io.cwd, values['password-file']), 'utf8').trim();
  if (password.length < 16) throw new UsageError('The password in --password-file is shorter than 16 characters.');
  const quote = (word: string) => `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  io.stdout.write(`ACL SETUSER ${values.user} reset on ${quote(`>${password}`)} ${rules.map(quote).join(' ')}\n`);
  return EXIT.OK;
};
