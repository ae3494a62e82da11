import { z } from 'zod';
import { loadEnv } from '../../src/config/env';
import { ConfigError } from '../../src/errors/config-error';
import { PagerDutyApiError } from '../../src/pagerduty/errors/pagerduty-api-error';
import { PagerDutyAuthError } from '../../src/pagerduty/errors/pagerduty-auth-error';
import { PagerDutySetupError } from '../../src/pagerduty/errors/pagerduty-setup-error';
import { PagerDutyUnavailableError } from '../../src/pagerduty/errors/pagerduty-unavailable-error';
import { PagerDutyClient } from '../../src/pagerduty/pagerduty-client';
import { PagerDutyOnCall } from '../../src/pagerduty/pagerduty-oncall';
import { IncidentSchema } from '../../src/pagerduty/pagerduty-schemas';
import { checkPagerDuty } from '../../src/pagerduty/pagerduty-startup-check';
import { checkPagerDutySignature, pagerDutySignature } from '../../src/pagerduty/webhook-signature';
import { loadPolicy } from '../../src/config/workflow-loader';
import { silentLogger } from '../../src/log/logger';
import { FakePagerDutyApi } from '../fakes/pagerduty-api';
import { join } from 'node:path';

/**
 * pdjs through our port against the fake: each trap pdjs has, measured, is handled here.
 */

const USERS = Array.from({ length: 230 }, (_, i) => ({ id: `PU${String(i).padStart(4, '0')}`, email: `user${i}@example.com`, name: `User ${i}` }));

let pd: FakePagerDutyApi;
let url: string;

beforeAll(async () => {
  pd = new FakePagerDutyApi({
    users: [...USERS, { id: 'PFROM01', email: 'bot@example.com', name: 'bot' }],
    services: [
      { id: 'PSVCA01', name: 'A', escalationPolicy: 'PPOLA01' },
      { id: 'PSVCB01', name: 'B', escalationPolicy: 'PPOLB01' },
    ],
    escalationPolicies: [
      { id: 'PPOLA01', name: 'A' },
      { id: 'PPOLB01', name: 'B' },
    ],
    oncalls: USERS.slice(0, 150).map((u, i) => ({ escalationPolicy: 'PPOLA01', level: (i % 3) + 1, user: u.id })),
  });
  url = await pd.start();
  for (let i = 0; i < 120; i++) pd.trigger(i % 2 === 0 ? 'PSVCA01' : 'PSVCB01', ['PU0001'], `incident ${i}`);
});

afterAll(() => pd.stop());
beforeEach(() => pd.heal());

const client = (options: Partial<ConstructorParameters<typeof PagerDutyClient>[0]> = {}) =>
  new PagerDutyClient({ token: pd.token, apiUrl: url, fromEmail: 'bot@example.com', logger: silentLogger(), timeoutMs: 2_000, backoffMs: 20, ...options });

describe('PagerDutyClient (pdjs behind our port)', () => {
  test('goes to the configured URL (not api.pagerduty.com) and walks every page with offset/limit/more, on a host that is not .com', async () => {
    const before = pd.calls(/^\/users$/).length;
    const users = await client().list('/users', 'users', z.object({ id: z.string() }), 'all users', { query: '@example.com' });
    expect(users).toHaveLength(231);
    const pages = pd.calls(/^\/users$/).slice(before);
    expect(pages.map((c) => [c.query.get('offset'), c.query.get('limit')])).toEqual([
      ['0', '100'],
      ['100', '100'],
      ['200', '100'],
    ]);
    expect(pages[0]?.headers.authorization).toBe(`Token token=${pd.token}`);
    expect(pages[0]?.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
  });

  test('array filters are sent as name[] (PagerDuty ignores a bare name=, and would return everything)', async () => {
    const incidents = await client().list('/incidents', 'incidents', IncidentSchema, 'B incidents', { 'service_ids[]': ['PSVCB01'], 'statuses[]': ['triggered', 'acknowledged'] });
    expect(incidents).toHaveLength(60);
    expect(incidents.every((i) => i.service.id === 'PSVCB01')).toBe(true);
    const unfiltered = await client().list('/incidents', 'incidents', IncidentSchema, 'the trap', { service_ids: 'PSVCB01' });
    expect(unfiltered).toHaveLength(120);
  });

  test('HTTP errors throw (pdjs resolves on them): 401 and 403 as auth, 404 as undefined for one resource, 400 with PagerDuty’s detail', async () => {
    await expect(client({ token: 'wrong' }).list('/users', 'users', z.unknown(), 'users')).rejects.toBeInstanceOf(PagerDutyAuthError);
    pd.failNext(403);
    await expect(client().list('/users', 'users', z.unknown(), 'users')).rejects.toThrow(/may not users \(HTTP 403\)/);
    expect(await client().getOne('/incidents/QNOPE', 'incident', IncidentSchema, 'incident QNOPE')).toBeUndefined();
    const noFrom = client({ fromEmail: 'stranger@example.com' }).post('/incidents/Q100INC/notes', { note: { content: 'x' } }, 'note', z.unknown(), 'a note');
    await expect(noFrom).rejects.toBeInstanceOf(PagerDutyApiError);
    await expect(noFrom).rejects.toThrow(/Requester User Not Found/);
  });

  test('reads are retried with backoff on 5xx and succeed when PagerDuty recovers; they give up after the retries', async () => {
    pd.failNext(502, /^\/users$/);
    pd.failNext(503, /^\/users$/);
    const before = pd.calls(/^\/users$/).length;
    const users = await client().list('/users', 'users', z.object({ id: z.string() }), 'users', { query: 'user1@' });
    expect(users.length).toBeGreaterThan(0);
    expect(pd.calls(/^\/users$/).length - before).toBe(3);
    pd.breakAll({ status: 500 });
    await expect(client().list('/users', 'users', z.unknown(), 'users')).rejects.toMatchObject({ code: 'PAGERDUTY_UNAVAILABLE', reason: 'HTTP 500' });
  });

  test('429 is retried after Retry-After', async () => {
    const limited = new FakePagerDutyApi({ rateLimitPerSecond: 1, users: [{ id: 'PX', email: 'x@example.com', name: 'x' }] });
    const limitedUrl = await limited.start();
    try {
      const c = new PagerDutyClient({ token: limited.token, apiUrl: limitedUrl, logger: silentLogger(), timeoutMs: 3_000, backoffMs: 10 });
      await c.getOne('/users/PX', 'user', z.unknown(), 'x');
      await expect(c.getOne('/users/PX', 'user', z.object({ id: z.string() }), 'x')).resolves.toEqual({ id: 'PX' });
      expect(limited.calls().map((r) => r.status)).toContain(429);
    } finally {
      await limited.stop();
    }
  });

  test('a hanging PagerDuty is aborted after the timeout, every attempt, and leaves no timer or socket behind', async () => {
    const timers = () => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = timers();
    pd.breakAll('hang');
    const before = pd.calls().length;
    const started = Date.now();
    const error = await client({ readRetries: 1, timeoutMs: 300 }).list('/users', 'users', z.unknown(), 'users').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PagerDutyUnavailableError);
    expect((error as PagerDutyUnavailableError).reason).toBe('no answer within 300 ms');
    expect(pd.calls().length - before).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    pd.heal();
    // Nothing of ours, nor pdjs's 30 s requestTimeout timer (one per attempt when left on), is still scheduled.
    expect(timers()).toBeLessThanOrEqual(baseline);
  });
});

describe('PagerDutyOnCall', () => {
  test('on-call entries across pages; emails only for the levels asked', async () => {
    const oncall = new PagerDutyOnCall({ client: client(), logger: silentLogger() });
    const emails = await oncall.oncallEmails('PPOLA01', [2]);
    expect(emails).toHaveLength(50);
    expect(emails).toContain('user1@example.com');
    expect(emails).not.toContain('user0@example.com');
  });

  test('a person is found by an exact, Slack-confirmed email only', async () => {
    const oncall = new PagerDutyOnCall({ client: client(), logger: silentLogger() });
    const services = ['PSVCA01'];
    expect(await oncall.oncallFor({ id: 'U1', email: 'user3@example.com', emailVerified: true, groups: [] }, services)).toEqual([
      expect.objectContaining({ service: 'PSVCA01', escalationPolicy: 'PPOLA01', level: 1, pagerdutyUser: 'PU0003' }),
    ]);
    expect(await oncall.oncallFor({ id: 'U1', email: 'user3@example.com', groups: [] }, services)).toEqual([]);
    // "user1@example.com" is a prefix of user10…user199's addresses: only the exact one counts.
    expect((await oncall.oncallFor({ id: 'U1', email: 'USER1@example.com', emailVerified: true, groups: [] }, services)).map((e) => e.pagerdutyUser)).toEqual(['PU0001']);
  });

  test('the on-call context is cached briefly', async () => {
    let now = 1_000_000;
    const oncall = new PagerDutyOnCall({ client: client(), logger: silentLogger(), contextTtlMs: 30_000, clock: () => now });
    const before = pd.calls(/^\/services\/PSVCA01$/).length;
    const first = await oncall.context('PSVCA01');
    expect(first.oncall.filter((o) => o.level <= 2).length).toBe(first.oncall.length);
    expect(first.incidents).toHaveLength(60);
    await oncall.context('PSVCA01');
    expect(pd.calls(/^\/services\/PSVCA01$/).length - before).toBe(1);
    now += 30_001;
    await oncall.context('PSVCA01');
    expect(pd.calls(/^\/services\/PSVCA01$/).length - before).toBe(2);
  });
});

describe('webhook signatures (v1=, several during rotation, constant time)', () => {
  const body = Buffer.from('{"event":{"id":"1"}}');
  test.each([
    ['one valid', pagerDutySignature(body, ['s3cret']), true],
    ['two, the second valid', pagerDutySignature(body, ['old', 's3cret']), true],
    ['two, neither valid', pagerDutySignature(body, ['old', 'older']), false],
    ['a v0 signature is not read', pagerDutySignature(body, ['s3cret']).replace('v1=', 'v0='), false],
    ['garbage', 'v1=zz', false],
  ])('%s', (_name, header, ok) => {
    expect(checkPagerDutySignature(header, body, 's3cret').ok).toBe(ok);
  });
});

describe('settings and the start-up check', () => {
  const base = { PAGERDUTY_TOKEN: 't', PAGERDUTY_FROM_EMAIL: 'bot@example.com', PAGERDUTY_WEBHOOK_SECRET: 's' };
  test('all or none: a partial set stops the start, naming what is missing', () => {
    expect(loadEnv({ ...base }).pagerduty).toMatchObject({ apiUrl: 'https://api.pagerduty.com', fromEmail: 'bot@example.com', timeoutMs: 3_000 });
    expect(loadEnv({}).pagerduty).toBeUndefined();
    expect(() => loadEnv({ PAGERDUTY_TOKEN: 't' })).toThrow(ConfigError);
    try {
      loadEnv({ PAGERDUTY_TOKEN: 't', PAGERDUTY_WEBHOOK_SECRET: 's' });
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toContain('missing: PAGERDUTY_FROM_EMAIL');
    }
    expect(() => loadEnv({ PAGERDUTY_API_URL: 'https://api.eu.pagerduty.com' })).toThrow(ConfigError);
    expect(loadEnv({ ...base, PAGERDUTY_API_URL: 'https://api.eu.pagerduty.com/', PAGERDUTY_TIMEOUT: '500ms' }).pagerduty).toMatchObject({
      apiUrl: 'https://api.eu.pagerduty.com',
      timeoutMs: 500,
    });
  });

  test('the shipped workflows: a bad key, or a service or escalation policy that does not exist, stops the start with every problem listed', async () => {
    const policy = await loadPolicy(join(__dirname, '../../workflows'));
    await expect(checkPagerDuty(client({ token: 'nope' }), policy, 'bot@example.com', silentLogger())).rejects.toBeInstanceOf(PagerDutySetupError);
    const error = (await checkPagerDuty(client(), policy, 'nobody@example.com', silentLogger()).catch((e: unknown) => e)) as PagerDutySetupError;
    expect(error).toBeInstanceOf(PagerDutySetupError);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('PAGERDUTY_FROM_EMAIL nobody@example.com is not a PagerDuty user'),
        expect.stringContaining('service PAPI7X2'),
        expect.stringContaining('escalation policy PSRE9K1'),
      ]),
    );
  });

  test('PagerDuty not answering at start does not stop it', async () => {
    pd.breakAll({ status: 503 });
    const policy = await loadPolicy(join(__dirname, '../../workflows'));
    const lines = await checkPagerDuty(client(), policy, 'bot@example.com', silentLogger());
    expect(lines.join('\n')).toMatch(/not reachable at start \(HTTP 503\)/);
  });
});
