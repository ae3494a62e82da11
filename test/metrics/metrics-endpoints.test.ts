import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { initCa } from '../../src/ca/ca-directory';
import { MetricsRegistry } from '../../src/metrics/metrics-registry';
import { eventually } from '../helpers/app';
import { deleteByPattern, REDIS_URL } from '../helpers/redis';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const ROOT = join(__dirname, '..', '..');

describe('MetricsRegistry', () => {
  it('hands every room the same metric for one name, and refuses one name as two kinds', async () => {
    const metrics = new MetricsRegistry({ processMetrics: false });
    const a = metrics.counter({ name: 'things_total', help: 'things', labelNames: ['kind'] });
    const b = metrics.counter({ name: 'things_total', help: 'things', labelNames: ['kind'] });
    expect(b).toBe(a);
    a.inc({ kind: 'x' });
    b.inc({ kind: 'x' }, 2);
    expect(await metrics.text()).toMatch(/^access_bot_things_total\{kind="x"\} 3$/m);
    expect(() => metrics.gauge({ name: 'things_total', help: 'things' })).toThrow(/already registered as a counter/);
  });

  it('reads a gauge at scrape time, and a collector that fails does not fail the scrape', async () => {
    const metrics = new MetricsRegistry();
    let depth = 4;
    metrics.gauge({ name: 'depth', help: 'depth', collect: (g) => g.set(depth) });
    metrics.gauge({ name: 'broken', help: 'broken', collect: () => Promise.reject(new Error('redis down')) });
    expect(await metrics.text()).toMatch(/^access_bot_depth 4$/m);
    depth = 7;
    const text = await metrics.text();
    expect(text).toMatch(/^access_bot_depth 7$/m);
    expect(text).toMatch(/^access_bot_process_cpu_seconds_total /m);
    expect(text).toMatch(/^access_bot_nodejs_eventloop_lag_seconds /m);
  });
});

function startCli(role: 'serve' | 'worker', env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null>; logs: () => string } {
  const child = spawn(process.execPath, [CLI, role], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, logs: () => logs };
}

/** The docker-compose.yml health check of a service, run as the container would, against `port`. */
function composeHealthcheck(service: 'bot' | 'worker', port: number): number | null {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { environment: Record<string, string>; healthcheck: { test: string[] } }>;
  };
  const { environment, healthcheck } = compose.services[service]!;
  const own = service === 'worker' ? environment.WORKER_PORT! : environment.PORT!;
  const [kind, command, ...args] = healthcheck.test;
  expect([kind, command]).toEqual(['CMD', 'node']);
  const rewritten = args.map((a) => a.replace(`127.0.0.1:${own}/`, `127.0.0.1:${port}/`));
  expect(rewritten).not.toEqual(args);
  return spawnSync(process.execPath, rewritten, { timeout: 10_000 }).status;
}

/** Two free ports derived from the pid, apart from the other child-process tests' ranges. */
const BOT_PORT = 41000 + (process.pid % 8000);
const WORKER_PORT = BOT_PORT + 8000;

it('the worker answers /healthz, /readyz and /metrics on WORKER_PORT, the bot /metrics on PORT, and docker-compose health checks pass', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-'));
  initCa(join(dir, 'ca'));
  const prefix = `t-metrics-${process.pid}`;
  const env = { REDIS_URL, REDIS_PREFIX: prefix, HOST: '127.0.0.1', CA_DIR: join(dir, 'ca'), LOG_LEVEL: 'info', WORKFLOWS_DIR: join(ROOT, 'workflows') };
  const worker = startCli('worker', { ...env, WORKER_PORT: String(WORKER_PORT) });
  const bot = startCli('serve', { ...env, PORT: String(BOT_PORT) });
  const redis = new Redis(REDIS_URL);
  try {
    const ready = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${WORKER_PORT}/readyz`).catch(() => undefined);
      return r?.ok ? ((await r.json()) as { checks: Record<string, string> }) : undefined;
    }, 30_000, 'worker ready');
    expect(ready.checks).toMatchObject({ redis: 'ok', queues: 'taking jobs' });
    expect(await (await fetch(`http://127.0.0.1:${WORKER_PORT}/healthz`)).json()).toEqual({ status: 'ok' });
    // The worker serves health and metrics only: no CA material, no webhooks.
    expect((await fetch(`http://127.0.0.1:${WORKER_PORT}/ca/ssh_user_ca.pub`)).status).toBe(404);

    const scraped = await fetch(`http://127.0.0.1:${WORKER_PORT}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scraped.text();
    expect(text).toMatch(/^access_bot_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^access_bot_process_cpu_seconds_total \d/m);

    await eventually(async () => (await fetch(`http://127.0.0.1:${BOT_PORT}/readyz`).catch(() => undefined))?.ok, 30_000, 'bot ready');
    const botMetrics = await (await fetch(`http://127.0.0.1:${BOT_PORT}/metrics`)).text();
    expect(botMetrics).toMatch(/^access_bot_process_resident_memory_bytes \d+/m);

    expect(composeHealthcheck('worker', WORKER_PORT)).toBe(0);
    expect(composeHealthcheck('bot', BOT_PORT)).toBe(0);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // A stopped worker fails its health check: the orchestrator restarts it.
    expect(composeHealthcheck('worker', WORKER_PORT)).toBe(1);
    expect(worker.logs()).toMatch(/worker health and metrics listening/);
  } finally {
    for (const p of [worker, bot]) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all([worker.exited, bot.exited]);
    await deleteByPattern(redis, `{${prefix}}*`);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
