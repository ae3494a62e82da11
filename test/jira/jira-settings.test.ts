import path from 'node:path';
import { main } from '../../src/cli';
import { describeIntegrations, loadEnv } from '../../src/config/env';
import { loadPolicy } from '../../src/config/workflow-loader';
import { JiraSetupError } from '../../src/jira/errors/jira-setup-error';
import { JiraClient } from '../../src/jira/jira-client';
import { checkJira } from '../../src/jira/jira-startup-check';
import { silentLogger } from '../../src/log/logger';
import { accessRequestProject, FakeJiraApi } from '../fakes/jira-api';
import { captureIo } from '../helpers/cli';

/** Jira's settings (all four or none), the start-up check against the fake, and `workflows check --env`. */

const ROOT = path.resolve(__dirname, '../..');
const FULL = {
  JIRA_URL: 'https://acme.atlassian.net',
  JIRA_EMAIL: 'access-bot@acme.example',
  JIRA_API_TOKEN: 'ATATT3xFfGF0-test-token',
  JIRA_WEBHOOK_SECRET: 'a-long-random-webhook-secret',
};

describe('settings', () => {
  test('all four turn Jira on, polled every minute by default; none leaves it off and says where requests go', () => {
    const env = loadEnv(FULL);
    expect(env.jira).toEqual({ url: FULL.JIRA_URL, email: FULL.JIRA_EMAIL, apiToken: FULL.JIRA_API_TOKEN, webhookSecret: FULL.JIRA_WEBHOOK_SECRET, pollIntervalMs: 60_000, timeoutMs: 10_000 });
    expect(describeIntegrations(env)).toContain('jira: on (https://acme.atlassian.net as access-bot@acme.example, webhook POST /webhooks/jira, polled every 1m)');
    expect(loadEnv({ ...FULL, JIRA_POLL_INTERVAL: '5m' }).jira?.pollIntervalMs).toBe(300_000);
    const off = loadEnv({});
    expect(off.jira).toBeUndefined();
    expect(describeIntegrations(off).find((l) => l.startsWith('jira:'))).toMatch(/off .*reach their approvers by Slack DM/);
  });

  test('a partial set stops the start, naming what is missing', () => {
    const { JIRA_WEBHOOK_SECRET: _secret, ...partial } = FULL;
    expect(() => loadEnv(partial)).toThrow(/Jira needs all of JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_WEBHOOK_SECRET \(missing: JIRA_WEBHOOK_SECRET\)/);
    expect(() => loadEnv({ JIRA_URL: FULL.JIRA_URL })).toThrow(/missing: JIRA_EMAIL, JIRA_API_TOKEN, JIRA_WEBHOOK_SECRET/);
  });

  test('http only on loopback: the token travels with every call', () => {
    expect(() => loadEnv({ ...FULL, JIRA_URL: 'http://jira.internal.example' })).toThrow(/JIRA_URL must be https:\/\//);
    expect(loadEnv({ ...FULL, JIRA_URL: 'http://127.0.0.1:8080/' }).jira?.url).toBe('http://127.0.0.1:8080');
    expect(() => loadEnv({ ...FULL, JIRA_POLL_INTERVAL: 'often' })).toThrow(/JIRA_POLL_INTERVAL/);
  });
});

describe('the start-up check', () => {
  const bot = { accountId: '557058:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' };
  let fake: FakeJiraApi;
  let url: string;
  beforeAll(async () => {
    fake = new FakeJiraApi({ users: [], apiUser: bot, projects: [accessRequestProject('PLAT', 'Access Request')] });
    url = await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  test('says which workflows are usable: the shipped kubernetes workflow against a PLAT project is; a missing project or status is named', async () => {
    const policy = await loadPolicy(path.join(ROOT, 'workflows'));
    const client = new JiraClient({ url, email: bot.email, apiToken: fake.apiToken, timeoutMs: 2_000, logger: silentLogger() });
    const good = await checkJira(client, policy, silentLogger());
    expect(good.usable).toEqual(['kubernetes-jira']);
    expect(good.lines).toEqual([
      'jira: signed in as access-bot (accountId 557058:access-bot); its own moves are never taken as reviews',
      'jira: workflow kubernetes-jira usable: project PLAT, issue type "Access Request", statuses "Approved" (approve) and "Declined" (deny), "Done" (ended)',
    ]);

    const wf = policy.workflows.get('kubernetes-jira')!;
    const broken = {
      ...policy,
      workflows: new Map([
        ['no-project', { ...wf, name: 'no-project', approval: { jira: { ...wf.approval.jira!, project: 'NOPE' } } }],
        ['no-status', { ...wf, name: 'no-status', approval: { jira: { ...wf.approval.jira!, expired_status: 'Expired' } } }],
      ]),
    };
    const bad = await checkJira(client, broken, silentLogger());
    expect(bad.unusable).toEqual(['no-project', 'no-status']);
    expect(bad.lines[1]).toMatch(/workflow no-project NOT usable: project NOPE does not exist/);
    expect(bad.lines[2]).toMatch(/workflow no-status NOT usable: issue type "Access Request" in PLAT has no status "Expired" \(it has: To Do, Approved, Declined, Done\)/);
  });

  test('refused credentials stop the start', async () => {
    const policy = await loadPolicy(path.join(ROOT, 'workflows'));
    const client = new JiraClient({ url, email: bot.email, apiToken: 'wrong', timeoutMs: 2_000, logger: silentLogger() });
    await expect(checkJira(client, policy, silentLogger())).rejects.toThrow(JiraSetupError);
    await expect(checkJira(client, policy, silentLogger())).rejects.toThrow(/HTTP 401/);
  });

  test('Jira not answering does not stop the start; it says so', async () => {
    const policy = await loadPolicy(path.join(ROOT, 'workflows'));
    const client = new JiraClient({ url: 'http://127.0.0.1:9', email: bot.email, apiToken: fake.apiToken, timeoutMs: 500, logger: silentLogger() });
    const result = await checkJira(client, policy, silentLogger());
    expect(result.lines).toEqual([expect.stringMatching(/^jira: not reachable at start/)]);
  });
});

describe('access-bot workflows check --env', () => {
  test('a workflow approving in Jira is a problem when Jira is off in the environment, and fine when it is on', async () => {
    const off = captureIo(ROOT, {});
    expect(await main(['workflows', 'check', '--env'], off)).toBe(1);
    expect(off.out()).toMatch(/workflows\/kubernetes\.yaml:\d+:1 workflows\.kubernetes-jira\.approval\.jira: approves in Jira, but Jira is off in this environment/);
    const on = captureIo(ROOT, FULL);
    expect(await main(['workflows', 'check', '--env'], on)).toBe(0);
    const without = captureIo(ROOT, {});
    expect(await main(['workflows', 'check'], without)).toBe(0);
  });
});
