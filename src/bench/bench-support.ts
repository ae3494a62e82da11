import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AppContext } from '../app/app-context';

/** The p-th percentile of values already sorted ascending. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Completions per second between the first and the last completion. */
export function perSecond(times: number[]): number {
  if (times.length < 2) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  return Math.round((sorted.length - 1) / (((sorted[sorted.length - 1] ?? 0) - (sorted[0] ?? 0)) / 1000));
}

export async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`benchmark: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** SIGTERM, and wait for the exit (a child that already exited, or none, is left alone). */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A line of /proc/<pid>/status in MB (VmRSS now, VmHWM the peak; Linux), 0 when unknown. */
export function procMemoryMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return 0;
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** Leaves nothing of a bench run behind: its queues, every key under its prefix, its directory. */
export async function cleanUpBench(ctx: AppContext, prefix: string, dir: string): Promise<void> {
  for (const q of [ctx.certificatesQueue, ctx.timersQueue, ctx.deliveriesQueue]) await q.obliterate({ force: true }).catch(() => undefined);
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await ctx.redis.del(...keys);
  } while (cursor !== '0');
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}

/** A port nothing listens on now (the OS picks it), for a child process to take. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

