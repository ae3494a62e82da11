import type { FakeSlackMessage, FakeSlackUser } from '../fakes/slack-api';
import { eventually } from '../helpers/app';
import { approvalFacts, approvalFactsText } from '../../src/requests/approval-facts';
import { USERGROUPS } from './e2e-fixtures';
import { E2e, messageText, userSshKey } from './e2e-harness';

/**
 * Approvers see exactly what they grant, wherever they are asked (channel, DM, App Home,
 * `/access pending`), and requesters get a login line that works and a revoke message that is
 * honest. Driven through the real Bolt app and the Slack fake.
 */

const CHANNEL = 'C0PAYAPPROVE';
const ALICE = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', groups: ['S0ENG', 'S0LEADS'] } satisfies FakeSlackUser;
const BOB = { id: 'U0BOB', name: 'bob', email: 'bob@example.com', groups: ['S0LEADS'] } satisfies FakeSlackUser;
/** A lead and in security: may approve either stage, but not both. */
const DAVE = { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', groups: ['S0LEADS', 'S0SEC'] } satisfies FakeSlackUser;
const CAROL = { id: 'U0CAROL', name: 'carol', email: 'carol@example.com', groups: ['S0SEC'] } satisfies FakeSlackUser;

const WORKFLOWS = {
  resources: {
    'pay-db': {
      description: 'Payments database primary',
      workflow: 'two-stage',
      duration: { default: '1h', max: '4h' },
      risk: { level: 'high', note: "Reads every customer's card data." },
      ssh: {
        principals: ['{{user.username}}', 'dba'],
        extensions: ['permit-pty', 'permit-port-forwarding'],
        source_address: ['10.40.0.0/16'],
        hosts: ['pg-pay-1.example.com'],
      },
    },
    app: {
      description: 'App servers',
      workflow: 'one-stage',
      duration: { default: '1h', max: '4h' },
      ssh: { principals: ['deploy'], force_command: '/usr/local/bin/deploy-shell', hosts: ['app-1.example.com:2222'] },
    },
    kube: {
      description: 'Production cluster',
      workflow: 'auto',
      duration: { default: '1h', max: '2h' },
      x509: { groups: ['developers'], usage: 'kubernetes', kubernetes: { cluster: 'prod', server: 'https://k8s.example.com:6443' } },
    },
  },
  workflows: {
    'two-stage': {
      requesters: { everyone: true },
      reason: { required: true },
      stages: [
        { name: 'leads', approvers: { slack_groups: ['leads'] } },
        { name: 'security', approvers: { slack_groups: ['S0SEC'] } },
      ],
      approval: { slack_channel: CHANNEL, slack_dm: true },
    },
    'one-stage': {
      requesters: { everyone: true },
      reason: { required: true },
      stages: [{ name: 'leads', approvers: { users: [BOB.id] } }],
      approval: { slack_dm: true },
    },
    auto: {
      requesters: { everyone: true },
      reason: { required: true },
      auto_approve: [{ requesters: { everyone: true }, max_duration: '2h' }],
      stages: [{ name: 'leads', approvers: { users: [BOB.id] } }],
    },
  },
};

let e2e: E2e;
const aliceSsh = userSshKey('alice@laptop');

beforeAll(async () => {
  e2e = await E2e.start({ workflows: WORKFLOWS, users: [ALICE, BOB, DAVE, CAROL], usergroups: USERGROUPS, env: { KRL_REFRESH_INTERVAL: '5m', PUBLIC_URL: 'https://access-bot.example.com' } });
  await e2e.command(ALICE.id, `key add ${aliceSsh.pub}`);
  const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await e2e.ctx.keyService.register(ALICE.id, pem, 'slack');
});

afterAll(async () => {
  await e2e?.stop();
  aliceSsh.remove();
});

const dmsTo = (userId: string, needle: string): FakeSlackMessage[] => e2e.messagesWith(needle, e2e.fake.dmChannelOf(userId));

describe('a two-stage request for a high-risk resource', () => {
  let id: string;

  beforeAll(async () => {
    const reply = await e2e.command(ALICE.id, 'pay-db 2h look into the failed settlement batch');
    expect(String(reply.body.text)).toMatch(/waiting for approval/);
    id = (await e2e.latestRequestOf(ALICE.id)).id;
  });

  test('the channel copy shows the risk first, the exact logins, host, extensions, source address and the window', async () => {
    const message = await e2e.approvalMessage(id, CHANNEL);
    const text = messageText(message);
    const blocks = message.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks[1]?.text?.text).toBe(":rotating_light: *HIGH RISK*: Reads every customer's card data.");
    expect(message.text).toMatch(/^\[HIGH RISK\] Access request from <@U0ALICE>/);
    expect(text).toContain('Log in as `alice`, `dba` on `pg-pay-1.example.com`');
    expect(text).not.toContain('{{user.username}}');
    expect(text).toContain('allows terminal, port forwarding · works only from 10.40.0.0/16');
    expect(text).toMatch(/2h: starts at approval, ends <!date\^\d+\^[^|]+\|[^>]+> if approved now/);
    expect(text).toContain('no earlier grants of pay-db in the last 30 days');
  });

  test('the requester is not listed or asked, though she is a lead', async () => {
    const message = await e2e.approvalMessage(id, CHANNEL);
    expect(messageText(message)).toMatch(/Approvers: <@U0BOB> and <@U0DAVE>|Approvers: <@U0DAVE> and <@U0BOB>/);
    expect((await e2e.request(id)).approvers.sort()).toEqual([BOB.id, DAVE.id]);
    await e2e.approvalMessage(id, e2e.fake.dmChannelOf(BOB.id));
    expect(dmsTo(ALICE.id, 'access.approve')).toEqual([]);
  });

  test('App Home and `/access pending` show the same facts to an approver', async () => {
    const published = e2e.nextCall('views.publish', (c) => c.args.user_id === BOB.id);
    await e2e.slack.appHomeOpened(BOB.id);
    await published;
    const home = JSON.stringify(e2e.fake.homeView(BOB.id)?.view.blocks);
    expect(home).toContain('*HIGH RISK*');
    expect(home).toContain('Log in as `alice`, `dba` on `pg-pay-1.example.com`');
    expect(home).toContain('works only from 10.40.0.0/16');
    expect(home).toContain('History: no earlier grants of pay-db in the last 30 days');

    const pending = await e2e.command(BOB.id, 'pending');
    const text = JSON.stringify(pending.body.blocks);
    expect(text).toContain('Log in as `alice`, `dba`');
    expect(text).toContain('*HIGH RISK*');
  });

  test('after a lead approves, the security stage excludes that lead (distinct approvers) and the group id shows as its handle', async () => {
    const message = await e2e.approvalMessage(id, CHANNEL);
    await e2e.click(DAVE.id, message, 'access.approve', id);
    const advanced = await eventually(async () => {
      const r = await e2e.request(id);
      return r.stage === 1 ? r : undefined;
    }, 10_000, 'second stage');
    expect(advanced.approvers).toEqual([CAROL.id]);
    await eventually(() => messageText(e2e.fake.message(message.channel, message.ts)!).includes('Approvers: <@U0CAROL>\"'), 10_000, 'channel copy at stage 2');
    await e2e.approvalMessage(id, e2e.fake.dmChannelOf(CAROL.id));
    expect(e2e.fake.messages.filter((m) => m.channel === e2e.fake.dmChannelOf(DAVE.id) && m.threadTs === undefined && messageText(m).includes(id))).toHaveLength(1);

    const list = await e2e.command(ALICE.id, 'list');
    expect(JSON.stringify(list.body.blocks)).toContain('waiting for security (@security)');
    expect(JSON.stringify(list.body.blocks)).not.toContain('S0SEC');
  });

  test('the certificate DM logs in to the named host, from the allowed network', async () => {
    const message = await e2e.approvalMessage(id, CHANNEL);
    await e2e.click(CAROL.id, message, 'access.approve', id);
    await e2e.waitForState(id, 'issued');
    const dm = await eventually(() => dmsTo(ALICE.id, 'Your SSH certificate for').find((m) => messageText(m).includes(id)), 10_000, 'certificate DM');
    const text = messageText(dm);
    expect(text).toContain('ssh -o CertificateFile=~/.ssh/access-bot-pay-db-cert.pub -i ~/.ssh/id_ed25519 alice@pg-pay-1.example.com');
    expect(text).not.toContain('@HOST');
    expect(text).toContain('It works only from `10.40.0.0/16`');
  });

  test('the revoke DM says when servers stop accepting the certificate (KRL refresh interval), linking the KRL at PUBLIC_URL', async () => {
    await e2e.command(ALICE.id, `revoke ${id}`);
    const dm = await eventually(() => dmsTo(ALICE.id, 'was revoked').find((m) => messageText(m).includes(id)), 10_000, 'revoke DM');
    expect(messageText(dm)).toContain('servers that fetch the <https://access-bot.example.com/ca/revoked.krl|KRL> refuse the certificate within their refresh interval (5m)');
  });
});

describe('an extension, as its approver sees it', () => {
  test('shows the grant it extends, its end and time left, the total access after approval, and the history', async () => {
    await e2e.command(ALICE.id, 'app 1h deploy the hotfix');
    const grant = await e2e.latestRequestOf(ALICE.id);
    const ask = await e2e.approvalMessage(grant.id, e2e.fake.dmChannelOf(BOB.id));
    await e2e.click(BOB.id, ask, 'access.approve', grant.id);
    const issued = await e2e.waitForState(grant.id, 'issued');

    const dm = await eventually(() => dmsTo(ALICE.id, 'Your SSH certificate for').find((m) => messageText(m).includes(grant.id)), 10_000, 'certificate DM');
    expect(messageText(dm)).toContain('ssh -p 2222 -o CertificateFile=~/.ssh/access-bot-app-cert.pub -i ~/.ssh/id_ed25519 deploy@app-1.example.com');
    expect(messageText(dm)).toContain('It runs only `/usr/local/bin/deploy-shell`');

    const reply = await e2e.command(ALICE.id, `extend ${grant.id} 2h still deploying`);
    expect(String(reply.body.text)).toMatch(/waiting for approval/);
    const extension = await e2e.latestRequestOf(ALICE.id);
    const message = await e2e.approvalMessage(extension.id, e2e.fake.dmChannelOf(BOB.id));
    const text = messageText(message);
    expect(text).toContain(`*Extension* of \`${grant.id}\`, which ends <!date^${Math.floor(issued.expiresAt! / 1000)}^`);
    expect(text).toContain('(*1h left*)');
    expect(text).toContain('After approval: *3h* of access from now');
    expect(text).toContain('starts when the current grant ends');
    expect(text).toContain('1 earlier grant of app in the last 30 days');
    expect(message.text).toMatch(/^\[extension\] /);
  });
});

describe('revoking an X.509 certificate for Kubernetes', () => {
  test('says the certificate stays valid on the cluster until it expires, and when', async () => {
    await e2e.command(ALICE.id, 'kube 1h look at the pods');
    const grant = await e2e.waitForState((await e2e.latestRequestOf(ALICE.id)).id, 'issued');
    const reply = await e2e.command(ALICE.id, `revoke ${grant.id}`);
    expect(String(reply.body.text)).toContain('Kubernetes does not check revocation lists: this certificate stays valid on the cluster until it expires');
    const dm = await eventually(() => dmsTo(ALICE.id, 'was revoked').find((m) => messageText(m).includes(grant.id)), 10_000, 'revoke DM');
    expect(messageText(dm)).toMatch(/stays valid on the cluster until it expires, <!date\^\d+\^[^>]+> \(in 1h\)/);
  });
});

describe('the same facts for other channels (Jira)', () => {
  test('approvalFactsText renders them as plain text, risk first, never a template', async () => {
    const [request] = await e2e.ctx.store.listByRequester(ALICE.id, 500).then((all) => all.filter((r) => r.resource === 'pay-db'));
    const text = approvalFactsText(approvalFacts(request!, e2e.ctx.policy.resources.get('pay-db'), request!.createdAt));
    expect(text.split('\n')[0]).toBe("HIGH RISK: Reads every customer's card data.");
    expect(text).toContain('Log in as: alice, dba');
    expect(text).toContain('Hosts: pg-pay-1.example.com');
    expect(text).toContain('Certificate allows: allows terminal, port forwarding; works only from 10.40.0.0/16');
    expect(text).toMatch(/Window: 2h, from \d{4}-\d\d-\d\d \d\d:\d\d UTC until/);
    expect(text).toContain('History: no earlier grants of pay-db in the last 30 days');
    expect(text).not.toContain('{{');
  });
});
