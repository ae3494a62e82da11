import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-event';
import { AuditShipper } from '../../src/audit/audit-shipper';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { JsonlSink } from '../../src/audit/sinks/jsonl-sink';
import { WebhookSink } from '../../src/audit/sinks/webhook-sink';
import { createRedis } from '../../src/app/redis-connection';
import { silentLogger } from '../../src/log/logger';
import { REDIS_URL, testRedis } from '../helpers/redis';

const fast = { blockMs: 50, claimIdleMs: 150, retryMs: 30 };

async function until<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const event = (i: number) => ({ type: 'request.created', actor: { id: `U${i}` }, requestId: `r${i}`, data: { i } });

describe('AuditShipper', () => {
  let t: ReturnType<typeof testRedis>;
  let log: RedisAuditLog;
  const shippers: AuditShipper[] = [];
  const connections: ReturnType<typeof createRedis>[] = [];

  function shipper(sink: ConstructorParameters<typeof AuditShipper>[2], consumer: string) {
    const conn = createRedis(REDIS_URL, { forBlocking: true });
    connections.push(conn);
    const s = new AuditShipper(conn, t.keys, sink, silentLogger(), { consumer, ...fast });
    shippers.push(s);
    return s;
  }

  beforeEach(() => {
    t = testRedis('ship');
    log = new RedisAuditLog(t.redis, t.keys);
  });
  afterEach(async () => {
    await Promise.all(shippers.splice(0).map((s) => s.stop()));
    connections.splice(0).forEach((c) => c.disconnect());
    await t.cleanup();
  });

  it('writes every event, history first, to a JSON-lines file a SIEM agent can tail, and the file verifies', async () => {
    await log.append([event(1), event(2)], Date.now());
    const file = join(mkdtempSync(join(tmpdir(), 'sink-')), 'audit.jsonl');
    await shipper(new JsonlSink(file), 'a').start();
    await log.append([event(3)], Date.now());
    const lines = await until(() => {
      const l = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
      return l.length === 3 ? l : undefined;
    });
    const events = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await verifyChain(events)).toMatchObject({ ok: true, count: 3 });
  });

  it('two replicas share the stream: each event is shipped once', async () => {
    const got: AuditEvent[] = [];
    const sink = (name: string) => ({ name: 'shared', write: async (e: AuditEvent[]) => void got.push(...e), close: async () => {}, id: name });
    await shipper(sink('a'), 'replica-a').start();
    await shipper(sink('b'), 'replica-b').start();
    for (let i = 0; i < 40; i++) await log.append([event(i)], Date.now());
    await until(() => (got.length >= 40 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  describe('webhook sink', () => {
    let server: Server;
    let url: string;
    const received: { body: string; signature: string | undefined }[] = [];
    let failuresLeft = 0;

    beforeEach(async () => {
      received.length = 0;
      server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (failuresLeft > 0) {
            failuresLeft--;
            res.writeHead(503).end();
            return;
          }
          received.push({ body, signature: req.headers['x-access-bot-signature'] as string | undefined });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`;
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('posts signed batches and delivers again after the collector fails', async () => {
      failuresLeft = 2;
      await log.append([event(1), event(2)], Date.now());
      await shipper(new WebhookSink(url, 'audit-secret'), 'w').start();
      await until(() => (received.length > 0 ? true : undefined));
      const [first] = received;
      const expected = `sha256=${createHmac('sha256', 'audit-secret').update(first!.body).digest('hex')}`;
      expect(first!.signature).toBe(expected);
      const events = (JSON.parse(first!.body) as { events: AuditEvent[] }).events;
      expect(events.map((e) => e.seq)).toEqual([1, 2]);
      expect(failuresLeft).toBe(0);
    });
  });
});
