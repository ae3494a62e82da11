/** What a CLI command may touch: injected so tests run commands in-process and read their output. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Exit codes shared by every command. */
export const EXIT = {
  OK: 0,
  /** The command ran and the answer is "no": errors found, tampering found, request refused. */
  NEGATIVE: 1,
  USAGE: 2,
  /** The command could not run: bad environment, Redis unreachable, files unreadable. */
  FAILURE: 3,
} as const;

export type CliCommand = (args: string[], io: CliIo) => Promise<number>;

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
