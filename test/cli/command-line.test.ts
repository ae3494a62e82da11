import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { prettyLine } from '../../src/log/pretty-stream';
import { eventually } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { deleteByPattern, REDIS_URL } from '../helpers/redis';

/** The command line keeps its promises: bad arguments are exit 2, help is the subcommand's own. */

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const ROOT = join(__dirname, '..', '..');

describe('start, serve and worker take no unknown flags or stray arguments', () => {
  test.each([
    [['start', '--verbose'], /Unknown option '--verbose'/],
    [['serve', 'now'], /Unexpected argument "now"/],
    [['worker', '--port', '3001'], /Unknown option '--port'/],
    [['serve', '--port', 'eighty'], /--port "eighty" is not a port number/],
    [['start', '--port', '70000'], /--port "70000" is not a port number/],
  ])('`access-bot %j` exits 2 with the reason and the usage', async (args, message) => {
    const r = await runCli(args as string[], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Usage: access-bot ${(args as string[])[0]}`);
  });

  test('`serve --help` documents --port; `worker --help` does not offer it', async () => {
    expect((await runCli(['serve', '--help'])).stdout).toContain('--port N');
    expect((await runCli(['worker', '--help'])).stdout).not.toContain('--port');
  });
});

test('`serve --port N` listens on N, whatever PORT says', async () => {
  const port = 21000 + (process.pid % 20000);
  const prefix = `t-serve-port-${process.pid}`;
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, REDIS_URL, REDIS_PREFIX: prefix, PORT: '1', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const health = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return r?.ok ? r.json() : undefined;
    }, 20_000, 'serve on --port');
    expect(health).toEqual({ status: 'ok' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    const redis = new Redis(REDIS_URL);
    await deleteByPattern(redis, `{${prefix}}*`);
    redis.disconnect();
  }
}, 30_000);

test('`--version` prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli(['--version']);
  expect(r).toMatchObject({ code: 0, stdout: `access-bot ${version}\n` });
});

test('a mistyped command gets a suggestion', async () => {
  const r = await runCli(['strat']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('Unknown command "strat". Did you mean "start"?');
});

describe('`<group> <sub> --help` prints that subcommand’s own help', () => {
  test.each([
    ['ca', 'init', ['ca rotate', 'ca show']],
    ['ca', 'rotate', ['ca init', 'ca show']],
    ['cert', 'sign', ['cert revoke', 'cert show']],
    ['cert', 'show', ['cert sign', 'cert revoke']],
    ['audit', 'export', ['audit verify']],
    ['audit', 'verify', ['audit export']],
  ])('%s %s --help', async (group, sub, others) => {
    const r = await runCli([group, sub, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`access-bot ${group} ${sub}`);
    for (const other of others) expect(r.stdout).not.toContain(`access-bot ${other}`);
  });

  test('the group’s notes stay (what DIR defaults to)', async () => {
    expect((await runCli(['ca', 'show', '--help'])).stdout).toContain('DIR defaults to $CA_DIR, else ./ca.');
  });
});

test('`audit export --type` with an unknown type is exit 2 and lists the known types and families', async () => {
  const r = await runCli(['audit', 'export', '--type', 'requests'], { REDIS_URL: 'redis://127.0.0.1:1' });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--type "requests" is not an audit event type.');
  expect(r.stderr).toMatch(/Families: .*\brequest\b.*/);
  expect(r.stderr).toMatch(/Types: .*request\.created.*/);
});

describe('logs', () => {
  const prefix = `t-logs-${process.pid}`;
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    await deleteByPattern(redis, `{${prefix}}*`);
    redis.disconnect();
  });
  /** `serve` until it is listening, then SIGTERM (a clean stop): as a person (a terminal) or a pipeline would start it. */
  const serve = async (tty: boolean, extraEnv: Record<string, string> = {}, until = /bot listening/): Promise<{ stdout: string; stderr: string }> => {
    const command = `exec ${process.execPath} ${CLI} serve --port 0`;
    const child = spawn(tty ? 'script' : 'sh', tty ? ['-qec', command, '/dev/null'] : ['-c', command], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'info', HOST: '127.0.0.1', CA_DIR: mkdtempSync(join(tmpdir(), 'logs-')), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await eventually(() => until.test(stdout + stderr) || undefined, 20_000, `serve to log ${until}`);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    return { stdout, stderr };
  };

  test('JSON when stderr is not a terminal, with the pointer to docs/slack.md when Slack is off', async () => {
    const r = await serve(false);
    const lines = r.stderr.trim().split('\n');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 30, msg: expect.stringMatching(/^slack: off/) });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain(
      'Slack is off, so nobody can ask for access yet: connect it with docs/slack.md (meanwhile `access-bot cert sign` issues certificates)',
    );
  });

  test('human-readable when stderr is a terminal', async () => {
    const r = await serve(true);
    const text = r.stdout.replace(/\u001b\[\d+m/g, '');
    expect(text).toMatch(/^\d\d:\d\d:\d\d INFO  slack: off \(set SLACK_BOT_TOKEN/m);
    expect(text).toMatch(/\d\d:\d\d:\d\d WARN  Slack is off, so nobody can ask for access yet: connect it with docs\/slack\.md/);
    expect(text).toMatch(/INFO  bot listening port=\d+/);
    expect(text).not.toContain('"level":30');
  });

  test('with Slack in HTTP mode and PUBLIC_URL set, the start log gives the request URL for the app manifest', async () => {
    const r = await serve(false, { PUBLIC_URL: 'https://access-bot.example.com', SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 's'.repeat(32), SLACK_API_URL: 'http://127.0.0.1:1/api/' }, /Slack request URL/);
    expect(r.stderr).toContain('"msg":"Slack request URL (for the app manifest): https://access-bot.example.com/slack/events"');
  });

  test('a pretty line puts the message first, fields after, and an error’s stack below', () => {
    const line = JSON.stringify({ level: 50, time: '2026-05-01T14:03:07.123Z', pid: 1, name: 'x', msg: 'effect failed', requestId: 'ar-1', err: { message: 'boom', stack: 'Error: boom\n    at f' } });
    expect(prettyLine(line)).toBe('14:03:07 ERROR effect failed requestId=ar-1 err=boom\n    Error: boom\n        at f\n');
  });
});
