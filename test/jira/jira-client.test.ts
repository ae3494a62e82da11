import { HttpException, Version3Client } from 'jira.js';
import { JiraApiError } from '../../src/jira/errors/jira-api-error';
import { JiraAuthError } from '../../src/jira/errors/jira-auth-error';
import { JiraUnavailableError } from '../../src/jira/errors/jira-unavailable-error';
import { JiraClient } from '../../src/jira/jira-client';
import { doc, paragraph } from '../../src/jira/jira-document';
import { silentLogger } from '../../src/log/logger';
import { accessRequestProject, FakeJiraApi } from '../fakes/jira-api';

/**
 * jira.js 5 against the strict fake: the client traps our JiraClient works around (measured on
 * jira.js 5.4 and Jira Cloud's documented behaviour), and our client's answers to Jira's failures.
 */

const bot = { accountId: '557058:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' };
const hidden = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Hidden', email: 'hidden@example.com', emailVisible: false };
const shown = { accountId: '557058:shown', displayName: 'Shown', email: 'shown@example.com' };
let fake: FakeJiraApi;
let url: string;
let raw: Version3Client;
let client: JiraClient;

beforeAll(async () => {
  fake = new FakeJiraApi({ users: [hidden, shown], apiUser: bot, projects: [accessRequestProject('PLAT')], indexLagMs: 0 });
  url = await fake.start();
  raw = new Version3Client({ host: url, authentication: { basic: { email: bot.email, apiToken: fake.apiToken } } });
  client = new JiraClient({ url, email: bot.email, apiToken: fake.apiToken, timeoutMs: 500, logger: silentLogger() });
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => fake.heal());

const fields = (summary: string, description?: unknown) => ({
  project: { key: 'PLAT' },
  issuetype: { name: 'Access Request' },
  summary,
  ...(description !== undefined ? { description: description as never } : {}),
});

describe('the traps of jira.js, as the fake enforces them', () => {
  test('an empty plain-string description becomes an empty text node, which Jira refuses', async () => {
    const err = await raw.issues.createIssue({ fields: fields('empty description', '') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).status).toBe(400);
  });

  test('setIssueProperty with a bare string is sent as a form (415); an object is stored', async () => {
    const created = await client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: 'property', description: doc(paragraph('x')), labels: [], property: { requestId: 'ar-prop' } });
    const bare = await raw.issueProperties.setIssueProperty({ issueIdOrKey: created.key, propertyKey: 'note', propertyValue: 'just a string' }).catch((e: unknown) => e);
    expect((bare as HttpException).status).toBe(415);
    await raw.issueProperties.setIssueProperty({ issueIdOrKey: created.key, propertyKey: 'note', propertyValue: { text: 'an object' } });
    expect(fake.issue(created.key)!.properties.note).toEqual({ text: 'an object' });
  });

  test('the enhanced search returns only ids unless fields are named', async () => {
    const bare = await raw.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'project = PLAT' });
    expect(Object.keys(bare.issues![0]!)).toEqual(['id']);
  });

  test('summaries over 255 characters, labels with spaces and unknown transitions are refused', async () => {
    await expect(client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: 'x'.repeat(256), description: doc(paragraph('x')), labels: [], property: {} })).rejects.toThrow(JiraApiError);
    await expect(client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: 'ok', description: doc(paragraph('x')), labels: ['two words'], property: {} })).rejects.toThrow(/HTTP 400/);
    const created = await client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: 'moves', description: doc(paragraph('x')), labels: [], property: {} });
    await expect(client.transition(created.key, '999')).rejects.toThrow(/Transition id '999' is not valid/);
  });

  test('embedded authors carry no email; /user shows it only when the profile allows', async () => {
    const created = await client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: 'authors', description: doc(paragraph('x')), labels: [], property: {} });
    fake.move(created.key, 'Approved', shown.accountId);
    const [history] = await client.recentHistory(created.key);
    expect(history!.author).toEqual(expect.objectContaining({ accountId: shown.accountId }));
    expect(history!.author!.emailAddress).toBeUndefined();
    expect((await client.user(shown.accountId))?.emailAddress).toBe(shown.email);
    expect((await client.user(hidden.accountId))?.emailAddress).toBeUndefined();
    expect(await client.user('no-such-account')).toBeUndefined();
  });
});

describe('our client', () => {
  test('search walks the pages by token and returns keys, fields and our property', async () => {
    for (let i = 0; i < 105; i++)
      await client.createIssue({ project: 'PLAT', issueType: 'Access Request', summary: `page ${i}`, description: doc(paragraph('x')), labels: ['paged'], property: { requestId: `ar-page${i}` } });
    const found = await client.search('labels = "paged"');
    expect(found).toHaveLength(105);
    expect(found[104]).toEqual(expect.objectContaining({ key: expect.stringMatching(/^PLAT-\d+$/), properties: { accessBotRequest: { requestId: 'ar-page104' } } }));
    expect(fake.calls(/\/search\/jql$/).filter((c) => c.query.get('jql') === 'labels = "paged"')).toHaveLength(2);
  });

  test('Jira failures become our errors: 401 auth, 503 and no answer unavailable, 404 on a read undefined', async () => {
    const wrong = new JiraClient({ url, email: bot.email, apiToken: 'wrong', timeoutMs: 500, logger: silentLogger() });
    await expect(wrong.myself()).rejects.toThrow(JiraAuthError);
    fake.failNext(503);
    await expect(client.myself()).rejects.toThrow(JiraUnavailableError);
    fake.delayNext(2_000, /myself/);
    await expect(client.myself()).rejects.toThrow(JiraUnavailableError);
    expect(await client.issue('PLAT-99999')).toBeUndefined();
    expect(await client.project('NOPE')).toBeUndefined();
  });
});
