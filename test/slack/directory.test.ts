import { isInPeople, isNamedApprover } from '../../src/engine/people';
import type { Approvers } from '../../src/config/workflow-schema';
import { createLogger, type Logger } from '../../src/log/logger';
import { NoOnCall } from '../../src/requests/null-adapters';
import type { OnCall } from '../../src/requests/ports';
import { SlackApiError } from '../../src/slack/errors/slack-api-error';
import { SlackDirectory } from '../../src/slack/slack-directory';
import { createSlackWebClient, type WebClient } from '../../src/slack/slack-web-api';
import { FakeSlackApi } from '../fakes/slack-api';

const USERS = [
  { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Liddell', groups: ['S0LEADS'] },
  { id: 'U0BOB', name: 'bob', email: 'Bob@Example.com', groups: ['db-leads', 'sre'] },
  { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
  { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', deleted: true },
  { id: 'U0BOTTY', name: 'deploybot', email: 'deploybot@example.com', isBot: true },
];
const GROUPS = [
  { id: 'S0LEADS', handle: 'db-leads', name: 'DB leads' },
  { id: 'S0SRE', handle: 'sre' },
];
const TTL = 60_000;

function capturingLogger(): { logger: Logger; warnings: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, warnings: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

class ListedOnCall extends NoOnCall implements OnCall {
  override enabled = true;
  calls = 0;
  constructor(readonly emails: string[]) {
    super();
  }
  override async oncallEmails(): Promise<string[]> {
    this.calls += 1;
    return this.emails;
  }
}

describe('SlackDirectory against the Slack Web API fake', () => {
  let fake: FakeSlackApi;
  let client: WebClient;
  let now: number;
  let log: ReturnType<typeof capturingLogger>;
  let oncall: ListedOnCall;
  let directory: SlackDirectory;

  beforeEach(async () => {
    fake = new FakeSlackApi({ usergroups: GROUPS, users: USERS });
    const url = await fake.start();
    client = createSlackWebClient({ botToken: fake.token, apiUrl: url, logger: createLogger({ level: 'silent' }), retryConfig: { retries: 0 } });
    now = 1_700_000_000_000;
    log = capturingLogger();
    oncall = new ListedOnCall(['carol@example.com', 'nobody@example.com']);
    directory = new SlackDirectory({ client, oncall, logger: log.logger, ttlMs: TTL, oncallTtlMs: TTL, clock: () => now });
  });

  afterEach(async () => {
    await fake.stop();
  });

  const count = (method: string) => fake.calls(method).length;

  test('a person comes with email, name and their user groups by id and by handle', async () => {
    await expect(directory.actor('U0ALICE')).resolves.toEqual({
      id: 'U0ALICE',
      email: 'alice@example.com',
      emailVerified: true,
      name: 'alice',
      groups: ['S0LEADS', 'db-leads'],
    });
    const bob = await directory.actor('U0BOB');
    expect(bob.groups.sort()).toEqual(['S0LEADS', 'S0SRE', 'db-leads', 'sre']);
    await expect(directory.actor('U0CAROL')).resolves.toMatchObject({ id: 'U0CAROL', email: 'carol@example.com', groups: [] });
  });

  test('deactivated users and bots get no groups and are flagged for the caller to refuse', async () => {
    fake.setUsergroupMembers('sre', ['U0DAVE', 'U0BOTTY']);
    await expect(directory.actor('U0DAVE')).resolves.toMatchObject({ id: 'U0DAVE', groups: [], inactive: 'deleted' });
    await expect(directory.actor('U0BOTTY')).resolves.toMatchObject({ id: 'U0BOTTY', groups: [], inactive: 'bot' });
    expect((await directory.actor('U0ALICE')).inactive).toBeUndefined();
  });

  test('ids that are not Slack users (CLI, system) are answered without asking Slack', async () => {
    await expect(directory.actor('cli:root')).resolves.toEqual({ id: 'cli:root', groups: [] });
    expect(fake.calls()).toHaveLength(0);
  });

  test('lookups are cached for the TTL: one usergroups.list serves every user, and after the TTL Slack is asked again', async () => {
    await directory.actor('U0ALICE');
    await directory.actor('U0ALICE');
    await directory.actor('U0BOB');
    expect(count('users.info')).toBe(2);
    expect(count('usergroups.list')).toBe(1);
    expect(fake.calls('usergroups.list')[0]?.args.include_users).toBe('true');

    // A membership change inside the TTL is not seen yet; after the TTL it is.
    fake.setUsergroupMembers('db-leads', ['U0BOB']);
    now += TTL - 1;
    expect((await directory.actor('U0ALICE')).groups).toContain('db-leads');
    expect(count('users.info')).toBe(2);
    now += 2;
    expect((await directory.actor('U0ALICE')).groups).toEqual([]);
    expect(count('users.info')).toBe(3);
    expect(count('usergroups.list')).toBe(2);
  });

  test('concurrent lookups of one person share one call', async () => {
    await Promise.all([directory.actor('U0CAROL'), directory.actor('U0CAROL'), directory.actor('U0CAROL')]);
    expect(count('users.info')).toBe(1);
    expect(count('usergroups.list')).toBe(1);
  });

  test('approver sets resolve ids, emails, groups by handle and by id, and the on-call', async () => {
    const approvers: Approvers = {
      users: ['U0ZED', 'bob@example.com'],
      slack_groups: ['sre', 'S0LEADS'],
      pagerduty_oncall: { escalation_policy: 'PESC001', levels: [1, 2] },
    };
    const ids = await directory.resolveApprovers(approvers);
    expect(ids.sort()).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL', 'U0ZED']);
    expect(fake.calls('users.lookupByEmail').map((c) => c.args.email)).toEqual(
      expect.arrayContaining(['bob@example.com', 'carol@example.com', 'nobody@example.com']),
    );
    expect(fake.calls('usergroups.users.list').map((c) => c.args.usergroup).sort()).toEqual(['S0LEADS', 'S0SRE']);
    // The on-call email that matches no Slack user is reported, not fatal.
    expect(log.warnings().some((w) => w.email === 'nobody@example.com')).toBe(true);
  });

  test('approver resolution is cached for the TTL, then asks Slack and PagerDuty again', async () => {
    const approvers: Approvers = {
      users: ['carol@example.com'],
      slack_groups: ['db-leads'],
      pagerduty_oncall: { escalation_policy: 'PESC001', levels: [1] },
    };
    await directory.resolveApprovers(approvers);
    const calls = fake.calls().length;
    expect(oncall.calls).toBe(1);

    fake.setUsergroupMembers('db-leads', ['U0CAROL']);
    expect((await directory.resolveApprovers(approvers)).sort()).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL']);
    expect(fake.calls()).toHaveLength(calls);
    expect(oncall.calls).toBe(1);

    now += TTL;
    expect((await directory.resolveApprovers(approvers)).sort()).toEqual(['U0CAROL']);
    expect(fake.calls().length).toBeGreaterThan(calls);
    expect(oncall.calls).toBe(2);
  });

  test('deactivated people found by email are not approvers', async () => {
    await expect(directory.resolveApprovers({ users: ['dave@example.com', 'deploybot@example.com', 'alice@example.com'] })).resolves.toEqual([
      'U0ALICE',
    ]);
  });

  test('an approver set that resolves to nobody is logged as a warning', async () => {
    await expect(directory.resolveApprovers({ users: ['ghost@example.com'], slack_groups: ['no-such-team', 'S0NOPE'] })).resolves.toEqual([]);
    const messages = log.warnings().map((w) => String(w.msg));
    expect(messages).toEqual(
      expect.arrayContaining([
        'no Slack user has this email',
        'no Slack user group has this handle',
        'no Slack user group has this id',
        expect.stringContaining('approver set resolves to nobody'),
      ]),
    );
  });

  test('with PagerDuty off, an on-call approver set resolves to nobody and says why', async () => {
    oncall.enabled = false;
    await expect(directory.resolveApprovers({ pagerduty_oncall: { escalation_policy: 'PESC001', levels: [1] } })).resolves.toEqual([]);
    expect(oncall.calls).toBe(0);
    expect(log.warnings().map((w) => w.msg)).toContain('approvers name a PagerDuty on-call, but PagerDuty is off');
  });

  test('Slack errors surface as SlackApiError with Slack\'s error string, and a failure is not cached', async () => {
    const unknown = directory.actor('U0NOSUCH');
    await expect(unknown).rejects.toBeInstanceOf(SlackApiError);
    await expect(unknown).rejects.toMatchObject({ slackError: 'user_not_found', method: 'users.info' });

    fake.failNext('usergroups.list', 'missing_scope');
    await expect(directory.actor('U0ALICE')).rejects.toMatchObject({ code: 'SLACK_API_ERROR', slackError: 'missing_scope' });
    await expect(directory.actor('U0ALICE')).resolves.toMatchObject({ groups: ['S0LEADS', 'db-leads'] });

    fake.failNext('usergroups.users.list', 'ratelimited', { status: 200 });
    await expect(directory.resolveApprovers({ slack_groups: ['S0SRE'] })).rejects.toMatchObject({ slackError: 'ratelimited' });
  });
});

describe('group ids and handles from Slack cannot be confused (a handle spelling another group\'s id)', () => {
  let fake: FakeSlackApi;
  let directory: SlackDirectory;
  beforeEach(async () => {
    fake = new FakeSlackApi({
      usergroups: [
        { id: 'S04T8KQ1N2P', handle: 'security-team' },
        // Made by an ordinary member who may create user groups: its handle is the admin group's id.
        { id: 'S0ATTACK01', handle: 's04t8kq1n2p' },
        { id: 'S0SHOUTY', handle: 'S0SHOUTY2' },
      ],
      users: [
        { id: 'U0SEC', name: 'sec', email: 'sec@example.com', groups: ['S04T8KQ1N2P'] },
        { id: 'U0MALLORY', name: 'mallory', email: 'mallory@example.com', groups: ['S0ATTACK01', 'S0SHOUTY'] },
        { id: 'U0UNCONF', name: 'unconfirmed', email: 'maria.garcia@example.com', emailConfirmed: false },
      ],
    });
    const url = await fake.start();
    const client = createSlackWebClient({ botToken: fake.token, apiUrl: url, logger: createLogger({ level: 'silent' }), retryConfig: { retries: 0 } });
    directory = new SlackDirectory({ client, oncall: new ListedOnCall([]), logger: createLogger({ level: 'silent' }) });
  });
  afterEach(() => fake.stop());

  test('the attacker is not a member of the group whose id their handle spells, for the engine or for approver resolution', async () => {
    const mallory = await directory.actor('U0MALLORY');
    expect(mallory.groups).toEqual(['S0ATTACK01', 's04t8kq1n2p', 'S0SHOUTY', 's0shouty2']);
    expect(isInPeople(mallory, { slack_groups: ['S04T8KQ1N2P'] })).toBe(false);
    // a handle Slack returns in capitals is still a handle, never an id
    expect(isInPeople(mallory, { slack_groups: ['S0SHOUTY2'] })).toBe(false);
    expect(isInPeople(mallory, { slack_groups: ['s0shouty2'] })).toBe(true);
    expect(isInPeople(await directory.actor('U0SEC'), { slack_groups: ['S04T8KQ1N2P'] })).toBe(true);
    await expect(directory.resolveApprovers({ slack_groups: ['S04T8KQ1N2P'] })).resolves.toEqual(['U0SEC']);
  });

  test('an email Slack has not confirmed is not an identity: no login from it, and it does not make its holder the approver with that email', async () => {
    const unconfirmed = await directory.actor('U0UNCONF');
    expect(unconfirmed.emailVerified).toBeUndefined();
    expect(isNamedApprover(unconfirmed, { users: ['maria.garcia@example.com'] })).toBe(false);
    await expect(directory.resolveApprovers({ users: ['maria.garcia@example.com'] })).resolves.toEqual([]);
  });
});
