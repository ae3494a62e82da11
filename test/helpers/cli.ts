import { main } from '../../src/cli';
import type { CliIo } from '../../src/cli/cli-io';

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

/** A CliIo that records what a command prints, for running commands in-process. */
export function captureIo(cwd: string, env: NodeJS.ProcessEnv = {}): CapturedIo {
  let stdout = '';
  let stderr = '';
  return {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd,
    out: () => stdout,
    err: () => stderr,
  };
}

/** Runs the CLI in-process (REDIS_URL from the test environment unless given) and captures its output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  const io = captureIo(cwd, { PATH: process.env.PATH, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', ...env });
  const code = await main(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}
