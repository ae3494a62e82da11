import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis, sentinelOptions } from '../../src/app/redis-connection';
import { eventually, testApp } from '../helpers/app';
import { REDIS_URL } from '../helpers/redis';

/**
 * The README says REDIS_URL can name a Sentinel-managed primary: a real redis-sentinel, watching
 * the test Redis, hands access-bot the primary, and a request goes through the whole service.
 */

let sentinel: ChildProcess;
let port: number;
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

beforeAll(async () => {
  const primary = new URL(REDIS_URL);
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
  // Sentinel rewrites its configuration file, so it gets a writable one of its own.
  writeFileSync(
    join(dir, 'sentinel.conf'),
    [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor accessbot ${primary.hostname} ${primary.port || 6379} 1`, ''].join('\n'),
  );
  sentinel = spawn('redis-server', [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
  await eventually(async () => {
    const probe = createRedis(`redis-sentinel://127.0.0.1:${port}/accessbot`, { extra: { retryStrategy: () => null, lazyConnect: true } });
    probe.on('error', () => undefined); // refused until the sentinel listens
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG' ? true : undefined;
    } catch {
      return undefined;
    } finally {
      probe.disconnect();
    }
  }, 15_000, 'sentinel to answer');
});

afterAll(() => {
  sentinel?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('redis-sentinel:// URLs become ioredis Sentinel options; anything else is left to ioredis', () => {
  expect(sentinelOptions('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/2?sentinelPassword=sp')).toEqual({
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26379 },
    ],
    name: 'mymaster',
    db: 2,
    password: 's3cret',
    sentinelPassword: 'sp',
  });
  expect(sentinelOptions('redis://127.0.0.1:6379')).toBeUndefined();
  expect(() => sentinelOptions('redis-sentinel://10.0.0.1:26379')).toThrow(/redis-sentinel:\/\/host:26379,host2:26379\/mymaster/);
});

test('with REDIS_URL=redis-sentinel://…, a request is stored, audited and listed through the primary Sentinel names', async () => {
  const app = await testApp({
    workflows: {
      resources: { box: { description: 'box', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['ops'] } } },
      workflows: { w: { requesters: { everyone: true }, reason: { required: true }, stages: [{ name: 's', approvers: { users: ['U0LEAD'] } }] } },
    },
    env: { REDIS_URL: `redis-sentinel://127.0.0.1:${port}/accessbot` },
  });
  try {
    expect(app.ctx.redis.options.sentinels).toEqual([{ host: '127.0.0.1', port }]);
    await app.ctx.keyService.register('U0REQ', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test', 'slack');
    const result = await app.ctx.service.submit('U0REQ', { resource: 'box', reason: 'check the disk', via: 'slack' });
    expect(result.status).toBe('ok');
    expect(await app.ctx.store.listByRequester('U0REQ')).toHaveLength(1);
    expect((await app.ctx.audit.head()).seq).toBeGreaterThan(0);
  } finally {
    await app.cleanup();
  }
});
