import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the real `openssl` binary; tests assert on its exit status and output. */
export interface OpensslResult {
  status: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export function openssl(args: string[], input?: string | Buffer): OpensslResult {
  const run = spawnSync('openssl', args, { input, timeout: 20_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8'), stdoutBytes: run.stdout };
}

/** Like `openssl`, but fails the test with openssl's own message when it exits non-zero. */
export function opensslOk(args: string[], input?: string | Buffer): OpensslResult {
  const result = openssl(args, input);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
  return result;
}

/** A scratch directory for PEM files, removed by `remove()`. */
export class ScratchDir {
  readonly path = mkdtempSync(join(tmpdir(), 'access-bot-x509-'));

  write(name: string, content: string | Buffer): string {
    const file = join(this.path, name);
    writeFileSync(file, content);
    return file;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** `Nov 21 05:52:19 2026 GMT` (openssl -dates) to epoch ms. */
export function opensslDate(text: string): number {
  return Date.parse(text.replace(/\s+/g, ' ').trim());
}
