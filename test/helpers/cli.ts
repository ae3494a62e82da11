import { main } from '../../src/cli';
import type { CliIo } from '../../src/cli/cli-io';

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { PATH: process.env.PATH, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', ...env },
    cwd,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
