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
