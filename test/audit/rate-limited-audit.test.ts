import { RateLimitedAudit } from '../../src/audit/rate-limited-audit';
import { RedisAuditLog } from '../../src/audit/redis-audit-log';
import { testRedis } from '../helpers/redis';

const t = testRedis('ratelimit');
afterAll(() => t.cleanup());

it('writes at most the limit per window and reports how many were suppressed with the next event', async () => {
  let now = 1_000_000;
  const log = new RedisAuditLog(t.redis, t.keys);
  const limited = new RateLimitedAudit(log, 3, 60_000, () => now);
  const event = { type: 'webhook.signature_refused', actor: { id: 'unknown' }, data: { source: 'slack' } };
  const written = [];
  for (let i = 0; i < 100; i++) written.push(await limited.append(event));
  expect(written.filter(Boolean)).toHaveLength(3);
  now += 60_000;
  expect(await limited.append(event)).toBe(true);
  const events = [];
  for await (const e of log.read()) events.push(e);
  expect(events.map((e) => e.data.suppressed)).toEqual([undefined, undefined, undefined, 97]);
  expect((await log.verify()).ok).toBe(true);
});
