import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error';

/** util.parseArgs that turns a bad command line into a UsageError (exit 2) carrying the help text. */
export function parseOptions<T extends ParseArgsConfig>(config: T, help: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}

/**
 * The subcommand in `args`: nothing, `help`, `--help` or `-h` print the help (nothing is a usage
 * error, exit 2) and give back the exit code; an unknown subcommand is a UsageError.
 */
export function subcommandOf<S extends string>(
  args: string[],
  known: readonly S[],
  help: string,
  io: { stdout: { write(text: string): unknown } },
): { sub: S; rest: string[] } | { exit: number } {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(help);
    return { exit: sub === undefined ? 2 : 0 };
  }
  if (!(known as readonly string[]).includes(sub)) throw new UsageError(`Unknown subcommand "${sub}".\n\n${help}`);
  return { sub: sub as S, rest };
}

export function rejectPositionals(positionals: string[], help: string): void {
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".\n\n${help}`);
}

/**
 * The help of one subcommand, cut from its group's help: the `  access-bot <group> <sub> …` lines
 * and their description, plus the group's closing notes (what defaults mean). `<sub> --help` then
 * shows what that subcommand takes, not the whole group.
 */
export function subcommandHelp(help: string, sub: string): string {
  const lines = help.split('\n');
  const isStart = (line: string) => /^ {2}access-bot \S+ \S+/.test(line);
  const picked: string[] = [];
  let lastBlockEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    if (!isStart(lines[i]!)) continue;
    let end = i + 1;
    while (end < lines.length && !isStart(lines[end]!) && lines[end]!.trim() !== '') end++;
    if (new RegExp(`^ {2}access-bot \\S+ ${sub.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`).test(lines[i]!)) picked.push(...lines.slice(i, end));
    lastBlockEnd = end;
    i = end - 1;
  }
  if (picked.length === 0) return help;
  const footer = lines.slice(lastBlockEnd).join('\n').trim();
  return `Usage:\n${picked.join('\n')}\n${footer ? `\n${footer}\n` : ''}`;
}
