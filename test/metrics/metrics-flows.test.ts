import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AuditShipper } from '../../src/audit/audit-shipper';
import { JsonlSink } from '../../src/audit/sinks/jsonl-sink';
import { createRedis } from '../../src/app/redis-connection';
import { silentLogger } from '../../src/log/logger';
import { ExternalCallMetrics } from '../../src/metrics/external-call-metrics';
import { MetricsRegistry } from '../../src/metrics/metrics-registry';
import { PagerDutyClient } from '../../src/pagerduty/pagerduty-client';
import { FakePagerDutyApi } from '../fakes/pagerduty-api';
import { eventually } from '../helpers/app';
import { ALICE, APPROVALS_CHANNEL, BOB, USERGROUPS, USERS, WORKFLOWS } from '../slack/e2e-fixtures';
import { certificateIn, E2e, userSshKey } from '../slack/e2e-harness';

/** What an operator's Prometheus sees after real flows: scraped from GET /metrics, before and after. */

/** One series' value in exposition text (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

let e2e: E2e;
const aliceKey = userSshKey('alice@laptop');
const scrape = async () => {
  const res = await fetch(`http://127.0.0.1:${e2e.bot.port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: USERS, usergroups: USERGROUPS });
});
afterAll(async () => {
  await e2e?.stop();
  aliceKey.remove();
});

it('a request approved in Slack moves the request, decision, issuance, click-to-certificate, queue and Slack call metrics', async () => {
  const before = await scrape();
  await e2e.command(ALICE.id, `key add ${aliceKey.pub}`);
  // Slack rate-limits the first approval post once: the client waits and retries, and it shows.
  e2e.fake.failNext('chat.postMessage', 'ratelimited', { retryAfterSec: 1, when: (a) => a.channel === APPROVALS_CHANNEL });
  await e2e.command(ALICE.id, 'prod-ssh 1h INC-7 restart the workers');
  const request = await e2e.latestRequestOf(ALICE.id);
  const message = await e2e.approvalMessage(request.id, APPROVALS_CHANNEL);
  expect((await e2e.click(BOB.id, message, 'access.approve', request.id)).status).toBe(200);
  const dm = await eventually(() => e2e.fake.messages.find((m) => m.channel === e2e.fake.dmChannelOf(ALICE.id) && certificateIn(m)), 15_000, 'certificate DM');
  expect(dm).toBeDefined();
  await eventually(async () => (await e2e.audit((ev) => ev.type === 'cert.delivered' && ev.requestId === request.id)).length > 0, 10_000, 'cert.delivered');

  const after = await scrape();
  const grew = (series: string) => value(after, series) - value(before, series);
  expect(grew('access_bot_request_transitions_total{state="pending",workflow="ops"}')).toBe(1);
  expect(grew('access_bot_request_transitions_total{state="approved",workflow="ops"}')).toBe(1);
  expect(grew('access_bot_request_transitions_total{state="issued",workflow="ops"}')).toBe(1);
  expect(value(after, 'access_bot_requests{state="issued"}')).toBe(1);
  expect(grew('access_bot_decision_seconds_count{workflow="ops",decision="approved"}')).toBe(1);
  expect(grew('access_bot_issuance_seconds_count{workflow="ops"}')).toBe(1);
  expect(grew('access_bot_click_to_certificate_seconds_count{workflow="ops"}')).toBe(1);
  // Delivered within the run: the +Inf bucket holds it, and so does the 30 s one.
  expect(grew('access_bot_click_to_certificate_seconds_bucket{le="30",workflow="ops"}')).toBe(1);
  expect(grew('access_bot_external_calls_total{service="slack",method="chat.postMessage",outcome="rate_limited"}')).toBe(1);
  // At least the approval post (its second try) and the certificate DM.
  expect(grew('access_bot_external_calls_total{service="slack",method="chat.postMessage",outcome="ok"}')).toBeGreaterThanOrEqual(2);
  expect(grew('access_bot_external_call_seconds_count{service="slack",method="chat.postMessage"}')).toBeGreaterThanOrEqual(3);
  // The issuance job sleeps (delayed) until the expiry warning: it shows in the certificates queue.
  expect(value(after, 'access_bot_queue_jobs{queue="certificates",state="delayed"}')).toBeGreaterThanOrEqual(1);
  expect(after).toMatch(/^access_bot_queue_oldest_waiting_seconds\{queue="timers"\} \d/m);
}, 60_000);

it('an audit sink that falls behind shows its lag in events and seconds, and catches up to 0', async () => {
  const { ctx } = e2e;
  // The group a JSON-lines shipper reads through, created before any shipper runs: everything is unshipped.
  await ctx.redis.xgroup('CREATE', ctx.keys.auditStream, 'sink-jsonl-file', '0', 'MKSTREAM');
  await new Promise((r) => setTimeout(r, 1100));
  const head = (await ctx.audit.head()).seq;
  const behind = await scrape();
  expect(value(behind, 'access_bot_audit_sink_lag_events{sink="jsonl-file"}')).toBe(head);
  expect(value(behind, 'access_bot_audit_sink_lag_seconds{sink="jsonl-file"}')).toBeGreaterThanOrEqual(1);

  const dir = mkdtempSync(join(tmpdir(), 'metrics-sink-'));
  const connection = createRedis(ctx.env.REDIS_URL, { forBlocking: true, name: 'test-shipper' });
  const shipper = new AuditShipper(connection, ctx.keys, new JsonlSink(join(dir, 'audit.jsonl')), silentLogger(), { consumer: 'test', blockMs: 100 });
  try {
    await shipper.start();
    await eventually(async () => value(await scrape(), 'access_bot_audit_sink_lag_events{sink="jsonl-file"}') === 0, 10_000, 'sink caught up');
    expect(value(await scrape(), 'access_bot_audit_sink_lag_seconds{sink="jsonl-file"}')).toBe(0);
  } finally {
    await shipper.stop();
    connection.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);

it('PagerDuty calls are counted by method with their ids replaced, and a 429 as rate_limited', async () => {
  const pd = new FakePagerDutyApi({ users: [{ id: 'PUSER01', email: 'u@example.com', name: 'U' }], services: [], escalationPolicies: [], oncalls: [] });
  const url = await pd.start();
  try {
    const metrics = new MetricsRegistry({ processMetrics: false });
    const client = new PagerDutyClient({ token: pd.token, apiUrl: url, logger: silentLogger(), timeoutMs: 2_000, backoffMs: 20, calls: new ExternalCallMetrics(metrics) });
    // pdjs retries a 429 three times inside one attempt of ours: four 429s fail that attempt, and ours retries.
    for (let i = 0; i < 4; i++) pd.failNext(429, /^\/users\/PUSER01$/);
    expect(await client.getOne('/users/PUSER01', 'user', z.object({ id: z.string() }), 'a user')).toEqual({ id: 'PUSER01' });
    const text = await metrics.text();
    expect(value(text, 'access_bot_external_calls_total{service="pagerduty",method="GET /users/:id",outcome="rate_limited"}')).toBe(1);
    expect(value(text, 'access_bot_external_calls_total{service="pagerduty",method="GET /users/:id",outcome="ok"}')).toBe(1);
  } finally {
    await pd.stop();
  }
});

it('a REST client (Jira) counts its calls through restFetch, by method and path with ids replaced', async () => {
  const { createServer } = await import('node:http');
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(calls === 1 ? 429 : calls === 2 ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const metrics = new MetricsRegistry({ processMetrics: false });
    const fetchJira = new ExternalCallMetrics(metrics).restFetch('jira');
    const port = (server.address() as { port: number }).port;
    for (const key of ['OPS-12', 'OPS-13', 'SEC-1']) await fetchJira(`http://127.0.0.1:${port}/rest/api/3/issue/${key}`, { method: 'get' });
    const text = await metrics.text();
    for (const outcome of ['rate_limited', 'unavailable', 'ok'])
      expect(value(text, `access_bot_external_calls_total{service="jira",method="GET /rest/api/3/issue/:id",outcome="${outcome}"}`)).toBe(1);
  } finally {
    server.close();
  }
});
