import { formatWithOptions } from 'node:util';

/** pino's numeric levels, as people read them. */
const LEVELS: Record<number, { name: string; color: number }> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 36 },
  30: { name: 'INFO ', color: 32 },
  40: { name: 'WARN ', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
};

/** Fields every line carries, shown in the prefix (or not at all) rather than as key=value. */
const PREFIX_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return formatWithOptions({ breakLength: Infinity, depth: 4, colors: false }, '%j', v);
}

/**
 * One JSON log line as a person reads it in a terminal: `14:03:07 INFO  bot listening port=3000`,
 * errors with their stack on the following lines. Lines that are not JSON pass through unchanged.
 */
export function prettyLine(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[Number(entry.level)] ?? { name: String(entry.level).toUpperCase().padEnd(5), color: 0 };
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : new Date(Number(entry.time) || Date.now()).toISOString().slice(11, 19);
  const paint = (code: number, text: string) => (colors && code ? `\u001b[${code}m${text}\u001b[0m` : text);
  const rest: string[] = [];
  let stack: string | undefined;
  for (const [key, v] of Object.entries(entry)) {
    if (PREFIX_FIELDS.has(key)) continue;
    if (key === 'err' && v && typeof v === 'object') {
      const err = v as { message?: unknown; stack?: unknown; code?: unknown };
      rest.push(`err=${value(`${typeof err.code === 'string' ? `${err.code}: ` : ''}${String(err.message ?? '')}`)}`);
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    rest.push(`${key}=${value(v)}`);
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const head = `${paint(90, time)} ${paint(level.color, level.name)} ${msg}${rest.length ? ` ${paint(90, rest.join(' '))}` : ''}`;
  return `${head}\n${stack ? `${stack.split('\n').map((l) => `    ${l}`).join('\n')}\n` : ''}`;
}

/** A pino destination that writes pretty lines to a stream (stderr by default). */
export class PrettyStream {
  constructor(
    private readonly out: { write(text: string): unknown } = process.stderr,
    private readonly colors = false,
  ) {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line.trim() !== '') this.out.write(prettyLine(line, this.colors));
  }
}
