import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppContext } from '../../src/app/app-context';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import type { AuditEvent } from '../../src/audit/audit-event';
import { loadCa } from '../../src/ca/ca-directory';
import type { AccessRequest } from '../../src/engine/types';
import { silentLogger } from '../../src/log/logger';
import type { OnCall } from '../../src/requests/ports';
import { SlackNotInChannelError } from '../../src/slack/errors/slack-not-in-channel-error';
import { SlackDirectory } from '../../src/slack/slack-directory';
import { SlackNotifier } from '../../src/slack/slack-notifier';
import { createSlackWebClient, type WebClient } from '../../src/slack/slack-web-api';
import { FakeSlackApi, type FakeSlackMessage } from '../fakes/slack-api';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { startTestSshd, type TestSshd } from '../helpers/sshd';

const run = promisify(execFile);
const logger = silentLogger();

const USERS = [
  { id: 'U0REQ', name: 'rita', email: 'rita@example.com' },
  { id: 'U0LEAD1', name: 'lena', email: 'lena@example.com', groups: ['db-leads'] },
  { id: 'U0LEAD2', name: 'leo', email: 'leo@example.com', groups: ['db-leads'] },
  { id: 'U0SEC1', name: 'sam', email: 'sam@example.com' },
  { id: 'U0SEC2', name: 'sue', email: 'sec2@example.com' },
];
const GROUPS = [{ id: 'S0LEADS', handle: 'db-leads' }];
const SECURITY = { name: 'security', approvers: { users: ['U0SEC1', 'sec2@example.com'] } };

const WORKFLOWS = {
  resources: {
    'prod-db': { description: 'Production database', workflow: 'two-stage', duration: { default: '1h', max: '4h' }, ssh: { principals: ['postgres'] } },
    'prod-web': { description: 'Production web servers', workflow: 'escalating', duration: { default: '30m', max: '2h' }, ssh: { principals: ['deploy'] } },
    'prod-root': { description: 'Root on production', workflow: 'breakglass', duration: { default: '30m', max: '1h' }, ssh: { principals: ['root'] } },
    'k8s-jira': { description: 'Cluster approved in Jira', workflow: 'jira-only', duration: { default: '1h', max: '2h' }, ssh: { principals: ['kube'] } },
  },
  workflows: {
    'two-stage': {
      requesters: { everyone: true },
      stages: [{ name: 'leads', approvers: { slack_groups: ['db-leads'] }, approvals: 2, timeout: '1h', reminder: '10m' }, SECURITY],
      approval: { slack_channel: 'C0APPROVE', slack_dm: true },
    },
    escalating: {
      requesters: { everyone: true },
      stages: [{ name: 'leads', approvers: { slack_groups: ['db-leads'] }, timeout: '1s' }, SECURITY],
      approval: { slack_channel: 'C0APPROVE', slack_dm: true },
    },
    'jira-only': {
      requesters: { everyone: true },
      stages: [{ name: 'platform', approvers: { users: ['U0LEAD1'] } }],
      approval: { jira: { project: 'OPS' } },
    },
    breakglass: {
      requesters: { users: ['U0SEC1'] },
      stages: [{ name: 'security', approvers: { users: ['U0SEC2'] } }],
      approval: { slack_dm: true },
      break_glass: { pagerduty_services: ['PSVC001'], notify: { slack_channel: 'C0ALERTS', users: ['sec2@example.com'] } },
    },
  },
};

const ONCALL: OnCall = {
  enabled: true,
  oncallFor: async (actor) =>
    actor.id === 'U0SEC1' ? [{ service: 'PSVC001', escalationPolicy: 'PPOL001', level: 1, pagerdutyUser: 'PUSEC1' }] : [],
  activeIncidents: async () => [{ id: 'PINC123', service: 'PSVC001', status: 'triggered' }],
  oncallEmails: async () => [],
  incident: async () => undefined,
  context: async (service) => ({ service, oncall: [], incidents: [] }),
  postNote: async () => undefined,
};

// ---- reading what the fake recorded ------------------------------------------------------------

/** Every `text` string in a block tree (header, sections, fields, context, buttons), joined. */
function textOf(node: unknown): string {
  if (Array.isArray(node)) return node.map(textOf).join('\n');
  if (typeof node !== 'object' || node === null) return '';
  return Object.entries(node)
    .map(([key, value]) => (key === 'text' && typeof value === 'string' ? value : textOf(value)))
    .filter(Boolean)
    .join('\n');
}

/** What a person sees: Slack's three escapes undone. */
function shown(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function buttonsOf(message: FakeSlackMessage): Array<Record<string, unknown>> {
  const actions = (message.blocks ?? []).find((b) => (b as { type?: string }).type === 'actions') as
    | { block_id?: string; elements: Array<Record<string, unknown>> }
    | undefined;
  return actions?.elements ?? [];
}

function blockById(message: FakeSlackMessage, blockId: string): Record<string, unknown> | undefined {
  return (message.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === blockId) as Record<string, unknown> | undefined;
}

function codeBlocks(message: { blocks?: unknown[] | undefined } | undefined): string[] {
  return [...shown(textOf(message?.blocks)).matchAll(/```([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

describe('SlackNotifier driven by the request service', () => {
  let fake: FakeSlackApi;
  let client: WebClient;
  let app: TestApp;
  let ctx: AppContext;
  let keyDir: string;

  beforeAll(async () => {
    fake = new FakeSlackApi({ users: USERS, usergroups: GROUPS });
    const url = await fake.start();
    client = createSlackWebClient({ botToken: fake.token, apiUrl: url, logger, retryConfig: { retries: 0 } });
    app = await testApp({ workflows: WORKFLOWS, ca: false, integrations: { oncall: ONCALL } });
    ctx = app.ctx;
    ctx.directory = new SlackDirectory({ client, oncall: ONCALL, logger });
    ctx.notifier = SlackNotifier.forContext(ctx, client);

    keyDir = await mkdtemp(join(tmpdir(), 'access-bot-notifier-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rita', '-f', join(keyDir, 'id_ed25519')]);
    const publicKey = await readFile(join(keyDir, 'id_ed25519.pub'), 'utf8');
    await ctx.keyService.register('U0REQ', publicKey, 'slack');
    await ctx.keyService.register('U0SEC1', publicKey, 'slack');
  });

  afterAll(async () => {
    await app?.cleanup();
    await fake?.stop();
    await rm(keyDir, { recursive: true, force: true });
  });

  async function submit(resource: string, reason = 'INC-42 replication lag <!channel> & more'): Promise<AccessRequest> {
    // One open request per person and resource: close the previous test's first.
    const open = await ctx.store.openRequestFor('U0REQ', resource, false);
    if (open?.state === 'pending') await ctx.service.cancel(open.id, 'U0REQ', 'slack');
    else if (open) await ctx.service.revoke(open.id, 'U0REQ', 'slack');
    const result = await ctx.service.submit('U0REQ', { resource, reason, ticket: 'CHG-7', via: 'slack' });
    if (result.status !== 'ok') throw new Error(`submit ${result.status}: ${result.message}`);
    return result.request;
  }

  async function review(id: string, by: string, decision: 'approve' | 'deny', comment?: string): Promise<AccessRequest> {
    const result = await ctx.service.review(id, by, decision, 'slack', comment);
    if (result.status !== 'ok') throw new Error(`review ${result.status}: ${result.message}`);
    return result.request;
  }

  /** Top-level copies of a request's approval message, channel post first. */
  function copies(id: string): FakeSlackMessage[] {
    return fake.messages.filter((m) => !m.threadTs && textOf(m.blocks).startsWith('Access request:') && textOf(m.blocks).includes(id));
  }
  const copyIn = (id: string, channel: string) => copies(id).filter((m) => m.channel === channel);
  const replies = (copy: FakeSlackMessage) => fake.messages.filter((m) => m.channel === copy.channel && m.threadTs === copy.ts);
  const dmsTo = (userId: string, id: string) =>
    fake.messages.filter((m) => m.channel === fake.dmChannelOf(userId) && !m.threadTs && textOf(m.blocks).includes(id));
  const statusOf = (m: FakeSlackMessage) => shown(textOf(m.blocks));

  async function auditOf(id: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for await (const event of ctx.audit.read()) if (event.requestId === id) events.push(event);
    return events;
  }

  test('a new request is posted once in the channel and DMed to each approver, and the requester is told', async () => {
    const request = await submit('prod-db');
    const channelCopies = copyIn(request.id, 'C0APPROVE');
    expect(channelCopies).toHaveLength(1);
    expect(copyIn(request.id, fake.dmChannelOf('U0LEAD1'))).toHaveLength(1);
    expect(copyIn(request.id, fake.dmChannelOf('U0LEAD2'))).toHaveLength(1);
    expect(copies(request.id)).toHaveLength(3);

    const post = channelCopies[0]!;
    const text = textOf(post.blocks);
    expect(text).toContain('<@U0REQ>');
    expect(text).toContain('`prod-db`: Production database');
    expect(text).toContain('1h: starts at approval, ends <!date^');
    expect(text).toContain('Log in as `postgres`');
    expect(text).toContain('CHG-7');
    expect(text).toContain('1 of 2: leads');
    expect(text).toContain('none yet');
    // The reason is shown, never acted on: no @channel ping from a requester's text.
    expect(text).toContain('INC-42 replication lag &lt;!channel&gt; &amp; more');
    expect(text).not.toContain('<!channel>');
    expect(post.text).toContain('<@U0REQ>');
    expect(post.text).toContain('prod-db');

    const oncall = blockById(post, 'access.oncall');
    expect(oncall?.type).toBe('context');
    expect(textOf(oncall)).toContain('On-call context: not available');
    expect(blockById(post, 'access.decision')?.type).toBe('actions');
    expect(buttonsOf(post)).toEqual([
      expect.objectContaining({ action_id: 'access.approve', style: 'primary', value: request.id }),
      expect.objectContaining({ action_id: 'access.deny', style: 'danger', value: request.id }),
    ]);

    const [pending] = dmsTo('U0REQ', request.id);
    expect(shown(textOf(pending?.blocks))).toContain('is waiting for approval');
    expect(buttonsOf(pending!)).toEqual([expect.objectContaining({ action_id: 'access.cancel', value: request.id })]);
  });

  test('a workflow that approves only in Jira still reaches its approvers by DM until the Jira channel exists', async () => {
    const request = await submit('k8s-jira');
    expect(copyIn(request.id, fake.dmChannelOf('U0LEAD1'))).toHaveLength(1);
    expect(copies(request.id)).toHaveLength(1);
  });

  test('each approval updates every copy in place with a thread reply under the channel post, then the next stage is asked, then approved', async () => {
    const request = await submit('prod-db');
    const [post, dm1, dm2] = [
      copyIn(request.id, 'C0APPROVE')[0]!,
      copyIn(request.id, fake.dmChannelOf('U0LEAD1'))[0]!,
      copyIn(request.id, fake.dmChannelOf('U0LEAD2'))[0]!,
    ];

    await review(request.id, 'U0LEAD1', 'approve');
    for (const copy of [post, dm1, dm2]) {
      expect(copy.updates).toBe(1);
      expect(statusOf(copy)).toContain('1 of 2 approvals');
      expect(statusOf(copy)).toContain('<@U0LEAD1> (leads)');
      expect(buttonsOf(copy)).toHaveLength(2);
    }
    // The channel's thread is the record; the DM copies show the review in place, without a second call.
    expect(replies(post).map((r) => r.text)).toEqual([expect.stringContaining('Approved by <@U0LEAD1> (stage 1 of 2: leads, 1 of 2)')]);
    expect(replies(dm1)).toEqual([]);
    expect(replies(dm2)).toEqual([]);

    await review(request.id, 'U0LEAD2', 'approve');
    expect(statusOf(post)).toContain('stage 2 of 2: security');
    // One reply says both: who approved, and who decides next.
    expect(replies(post).map((r) => r.text).at(-1)).toMatch(/Approved by <@U0LEAD2>.*\n.*Now at stage 2 of 2: security/);
    expect(replies(post)).toHaveLength(2);
    // The leads' DMs no longer offer buttons; the channel post and the security DMs do.
    expect(buttonsOf(dm1)).toEqual([]);
    expect(buttonsOf(post)).toHaveLength(2);
    const sec1 = copyIn(request.id, fake.dmChannelOf('U0SEC1'));
    const sec2 = copyIn(request.id, fake.dmChannelOf('U0SEC2'));
    expect(sec1).toHaveLength(1);
    expect(sec2).toHaveLength(1);
    expect(buttonsOf(sec2[0]!)).toHaveLength(2);
    expect(copyIn(request.id, 'C0APPROVE')).toHaveLength(1);

    const approved = await review(request.id, 'U0SEC1', 'approve');
    expect(approved.state).toBe('approved');
    for (const copy of copies(request.id)) {
      expect(buttonsOf(copy)).toEqual([]);
      expect(statusOf(copy)).toMatch(/Approved\* by <@U0LEAD1>, <@U0LEAD2> and <@U0SEC1>\. Access 1h, from <!date\^\d+\^[^|]+\|[^>]+> until/);
    }
    // The copies say who approved; no thread reply repeats it.
    expect(replies(post)).toHaveLength(2);
    expect(replies(sec1[0]!)).toEqual([]);
    expect(dmsTo('U0REQ', request.id).map((m) => shown(textOf(m.blocks)))).toEqual([
      expect.stringContaining('is waiting for approval'),
      expect.stringContaining('passed stage 1 of 2: leads (approved by <@U0LEAD1> and <@U0LEAD2>). Now waiting for stage 2 of 2: security: <@U0SEC1> and <@U0SEC2>.'),
    ]);
    // "Approved" waits on the delivery lane: the certificate DM, when it comes soon, says it instead.
    const approvedNotice = await ctx.deliveriesQueue.getJob(`deliver-approved-${request.id}`);
    expect(approvedNotice?.opts.delay).toBeGreaterThan(0);

    expect((await ctx.service.revoke(request.id, 'U0REQ', 'slack', 'done early')).status).toBe('ok');
    for (const copy of copies(request.id)) expect(statusOf(copy)).toContain('Revoked* by <@U0REQ>');
    expect(shown(textOf(dmsTo('U0REQ', request.id).at(-1)?.blocks))).toContain('was revoked by you. No certificate had been issued yet, so none can be used.\n>done early');
  });

  test('a denial shows who denied and why on every copy, removes the buttons, and tells the requester', async () => {
    const request = await submit('prod-db');
    await review(request.id, 'U0LEAD2', 'deny', 'Use the read replica <replica-1> instead');
    const all = copies(request.id);
    expect(all).toHaveLength(3);
    for (const copy of all) {
      expect(buttonsOf(copy)).toEqual([]);
      expect(statusOf(copy)).toContain('Denied* by <@U0LEAD2>');
      expect(statusOf(copy)).toContain('>Use the read replica <replica-1> instead');
      expect(replies(copy).map((r) => shown(r.text ?? ''))).toEqual(
        copy.channel === 'C0APPROVE' ? [expect.stringContaining('Denied by <@U0LEAD2>: \n>Use the read replica')] : [],
      );
    }
    const told = dmsTo('U0REQ', request.id).map((m) => shown(textOf(m.blocks)));
    expect(told.at(-1)).toContain('was denied by <@U0LEAD2>.\n>Use the read replica <replica-1> instead');
  });

  test('a stage timeout escalates: every copy says so, the old stage is told in its threads, the next stage is asked', async () => {
    const request = await submit('prod-web');
    const [post, dm1] = [copyIn(request.id, 'C0APPROVE')[0]!, copyIn(request.id, fake.dmChannelOf('U0LEAD1'))[0]!];
    const result = await ctx.service.handleTimer(request.id, 'stage_timeout', 0);
    expect(result.status).toBe('ok');

    expect(statusOf(post)).toContain('Escalated to stage 2*: stage 1 of 2: leads had no decision within 1s');
    expect(statusOf(post)).toContain('Approvers: <@U0SEC1> and <@U0SEC2>');
    expect(buttonsOf(post)).toHaveLength(2);
    expect(buttonsOf(dm1)).toEqual([]);
    for (const copy of [post, dm1]) {
      expect(replies(copy).map((r) => r.text)).toEqual([
        expect.stringContaining('escalated to stage 2 of 2: security. Waiting for <@U0SEC1> and <@U0SEC2>'),
      ]);
    }
    for (const user of ['U0SEC1', 'U0SEC2']) {
      const [dm] = copyIn(request.id, fake.dmChannelOf(user));
      expect(buttonsOf(dm!)).toHaveLength(2);
      expect(statusOf(dm!)).toContain('Escalated to stage 2');
    }
  });

  test('reminders reply in the channel thread and DM only the approvers who have not acted, numbered', async () => {
    const request = await submit('prod-db');
    await review(request.id, 'U0LEAD1', 'approve');
    const [post] = copyIn(request.id, 'C0APPROVE');

    expect((await ctx.service.handleTimer(request.id, 'reminder', 0, 0)).status).toBe('ok');
    expect((await ctx.service.handleTimer(request.id, 'reminder', 0, 1)).status).toBe('ok');

    expect(replies(post!).map((r) => r.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Reminder 1: still waiting for <@U0LEAD2> (stage 1 of 2: leads)'),
        expect.stringContaining('Reminder 2: still waiting for <@U0LEAD2>'),
      ]),
    );
    const leo = copyIn(request.id, fake.dmChannelOf('U0LEAD2'));
    expect(leo.map((m) => m.text)).toEqual([
      expect.not.stringContaining('Reminder'),
      expect.stringContaining('Reminder 1:'),
      expect.stringContaining('Reminder 2:'),
    ]);
    expect(textOf(leo[2]!.blocks)).toContain('*Reminder 2*: this request is still waiting for your decision.');
    expect(buttonsOf(leo[2]!)).toHaveLength(2);
    expect(copyIn(request.id, fake.dmChannelOf('U0LEAD1'))).toHaveLength(1);

    // A later change updates the reminder copies too.
    await ctx.service.cancel(request.id, 'U0REQ', 'slack', 'fixed by itself');
    for (const copy of copies(request.id)) {
      expect(buttonsOf(copy)).toEqual([]);
      expect(statusOf(copy)).toContain('Cancelled* by <@U0REQ>');
    }
    expect(shown(textOf(dmsTo('U0REQ', request.id).at(-1)?.blocks))).toContain('was cancelled by you');
  });

  test('a channel the bot is not in fails with a hint to invite the bot; the approvers still get their DMs', async () => {
    const inApprovalChannel = (args: Record<string, unknown>) => args.channel === 'C0APPROVE';
    fake.failNext('chat.postMessage', 'not_in_channel', { when: inApprovalChannel });
    const request = await submit('prod-db');
    expect(copyIn(request.id, 'C0APPROVE')).toHaveLength(0);
    expect(copies(request.id)).toHaveLength(2);

    const failed = (await auditOf(request.id)).filter((e) => e.type === 'external.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ effect: 'notify_approvers' });
    expect(String(failed[0]?.data.error)).toMatch(/channel C0APPROVE \(not_in_channel\): invite the bot to that channel/);

    fake.failNext('chat.postMessage', 'channel_not_found', { when: inApprovalChannel });
    const retry = ctx.notifier.approvers(request, 0, 'new');
    await expect(retry).rejects.toBeInstanceOf(SlackNotInChannelError);
    await expect(retry).rejects.toThrow(/invite the bot/);
    // Retrying notified nobody twice.
    expect(copies(request.id)).toHaveLength(2);
  });

  test('a certificate too long for one Slack section is split over blocks that still save it exactly', async () => {
    const request = await submit('prod-db');
    const home = await mkdtemp(join(tmpdir(), 'access-bot-split-'));
    await mkdir(join(home, '.ssh'));
    try {
      const sshLine = `ssh-ed25519-cert-v01@openssh.com ${'QUJD'.repeat(1600)} rita`;
      const pem = `-----BEGIN CERTIFICATE-----\n${Array.from({ length: 90 }, (_, i) => String(i % 10).repeat(64)).join('\n')}\n-----END CERTIFICATE-----`;
      const cases = [
        { kind: 'ssh' as const, text: sshLine, file: join(home, '.ssh', 'access-bot-prod-db-cert.pub'), expected: sshLine },
        { kind: 'x509' as const, text: pem, file: join(home, '.access-bot', 'prod-db.crt'), expected: `${pem}\n` },
      ];
      for (const { kind, text, file, expected } of cases) {
        const now = Date.now();
        const certificate = {
          kind,
          text,
          serial: `${kind}-42`,
          keyFingerprint: 'SHA256:abc',
          validAfter: now,
          validBefore: now + 3_600_000,
          principals: ['postgres'],
          issuedAt: now,
          caFingerprint: 'SHA256:ca',
        };
        await ctx.notifier.requester({ ...request, state: 'issued', certificate }, 'issued');
        const dm = dmsTo('U0REQ', request.id).at(-1);
        const sections = (dm?.blocks ?? []).map((b) => textOf((b as { text?: unknown }).text));
        expect(Math.max(...sections.map((t) => t.length))).toBeLessThanOrEqual(3000);
        const blocks = codeBlocks(dm);
        const first = blocks.findIndex((b) => b.includes("<<'EOF'"));
        const last = blocks.findIndex((b, i) => i >= first && b.endsWith('\nEOF'));
        expect(last).toBeGreaterThan(first);
        // Pasted one after another into one terminal, the parts are one command.
        await run('bash', ['-c', blocks.slice(first, last + 1).join('\n')], { env: { ...process.env, HOME: home } });
        expect(await readFile(file, 'utf8')).toBe(expected);
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test('break-glass alerts the channel and the people the workflow names', async () => {
    const result = await ctx.service.submit('U0SEC1', { resource: 'prod-root', reason: 'Database down, INC-9', breakGlass: true, via: 'slack' });
    if (result.status !== 'ok') throw new Error(result.message);
    const id = result.request.id;
    const alert = fake.messages.find((m) => m.channel === 'C0ALERTS' && textOf(m.blocks).includes(id));
    const text = shown(textOf(alert?.blocks));
    expect(text).toContain('Break-glass: prod-root');
    expect(text).toContain('<@U0SEC1> broke glass');
    expect(text).toContain('Incident `PINC123` on service `PSVC001`');
    expect(text).toContain('A post-incident review is required');
    expect(dmsTo('U0SEC2', id).map((m) => textOf(m.blocks))).toEqual([expect.stringContaining('broke glass')]);
    expect(shown(textOf(dmsTo('U0SEC1', id)[0]?.blocks))).toContain('This is break-glass access for incident `PINC123`');
  });
});

describe('certificate delivery from the CA worker', () => {
  let fake: FakeSlackApi;
  let app: TestApp;
  let ctx: AppContext;
  let worker: WorkerProcess;
  let sshd: TestSshd;
  let home: string;

  const workflows = {
    resources: {
      box: { description: 'Test box', workflow: 'one', duration: { default: '1h', max: '1h' }, ssh: { principals: ['accessbot-test'] } },
      k8s: {
        description: 'Kubernetes prod',
        workflow: 'one',
        duration: { default: '1h', max: '2h' },
        x509: { groups: ['developers'], usage: 'kubernetes', kubernetes: { cluster: 'prod', server: 'https://k8s.example.com:6443' } },
      },
    },
    workflows: {
      one: { requesters: { everyone: true }, stages: [{ name: 'security', approvers: { users: ['U0SEC1'] } }], approval: { slack_dm: true } },
    },
  };

  beforeAll(async () => {
    fake = new FakeSlackApi({ users: USERS, usergroups: GROUPS });
    const url = await fake.start();
    const client = createSlackWebClient({ botToken: fake.token, apiUrl: url, logger, retryConfig: { retries: 0 } });
    app = await testApp({ workflows });
    ctx = app.ctx;
    ctx.directory = new SlackDirectory({ client, oncall: ctx.oncall, logger });
    ctx.notifier = SlackNotifier.forContext(ctx, client);

    home = await mkdtemp(join(tmpdir(), 'access-bot-home-'));
    await mkdir(join(home, '.ssh'), { mode: 0o700 });
    await mkdir(join(home, '.access-bot'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rita', '-f', join(home, '.ssh', 'id_ed25519')]);
    await ctx.keyService.register('U0REQ', await readFile(join(home, '.ssh', 'id_ed25519.pub'), 'utf8'), 'slack');
    const keyPem = join(home, '.access-bot', 'key.pem');
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPem]);
    const { stdout: publicPem } = await run('openssl', ['pkey', '-in', keyPem, '-pubout']);
    await ctx.keyService.register('U0REQ', publicPem, 'slack');

    worker = await startWorkerProcess(ctx);
    sshd = await startTestSshd({ trustedCaKeys: [loadCa(join(app.dir, 'ca')).ssh.publicLine] });
  });

  afterAll(async () => {
    await sshd?.stop();
    await worker?.stop();
    await app?.cleanup();
    await fake?.stop();
    await rm(home, { recursive: true, force: true });
  });

  async function approvedRequest(resource: string): Promise<string> {
    const submitted = await ctx.service.submit('U0REQ', { resource, reason: 'deploy hotfix', via: 'slack' });
    if (submitted.status !== 'ok') throw new Error(submitted.message);
    const approved = await ctx.service.review(submitted.request.id, 'U0SEC1', 'approve', 'slack');
    if (approved.status !== 'ok') throw new Error(approved.message);
    return submitted.request.id;
  }

  async function delivered(id: string): Promise<AuditEvent> {
    return eventually(async () => {
      for await (const event of ctx.audit.read()) if (event.requestId === id && event.type === 'cert.delivered') return event;
      return undefined;
    }, 15_000, 'cert.delivered');
  }

  test('the SSH certificate DM carries steps that save a certificate a real sshd accepts, and delivery is audited', async () => {
    const id = await approvedRequest('box');
    const dm = await fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === fake.dmChannelOf('U0REQ') && textOf(c.args.blocks).includes('ssh -o CertificateFile'),
      15_000,
    );
    const event = await delivered(id);
    const stored = await ctx.store.get(id);
    expect(stored?.certificate?.kind).toBe('ssh');
    expect(event.data).toMatchObject({ channel: fake.dmChannelOf('U0REQ'), serial: stored?.certificate?.serial, kind: 'ssh' });
    expect(event.actor.id).toBe('system');

    const blocks = codeBlocks({ blocks: dm.args.blocks as unknown[] });
    const save = blocks.find((b) => b.startsWith('cat > ~/.ssh/access-bot-box-cert.pub'));
    expect(blocks).toContain('ssh -o CertificateFile=~/.ssh/access-bot-box-cert.pub -i ~/.ssh/id_ed25519 accessbot-test@HOST');
    expect(shown(textOf(dm.args.blocks))).toContain('Log in as: `accessbot-test`');
    expect(save).toBeDefined();

    await run('bash', ['-c', save!], { env: { ...process.env, HOME: home } });
    const certPath = join(home, '.ssh', 'access-bot-box-cert.pub');
    expect((await readFile(certPath, 'utf8')).trim()).toBe(stored?.certificate?.text.trim());
    const login = await sshd.login({ privateKeyPath: join(home, '.ssh', 'id_ed25519'), certPath, command: 'id -un' });
    expect(login.refusal).toBeUndefined();
    expect(login.ok).toBe(true);
    expect(login.stdout.trim()).toBe('accessbot-test');
  });

  test('the X.509 certificate DM carries the PEM and a kubeconfig snippet for the cluster', async () => {
    const id = await approvedRequest('k8s');
    const dm = await fake.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === fake.dmChannelOf('U0REQ') && textOf(c.args.blocks).includes('kubectl config'),
      15_000,
    );
    await delivered(id);
    const blocks = codeBlocks({ blocks: dm.args.blocks as unknown[] });
    const save = blocks.find((b) => b.startsWith('mkdir -p ~/.access-bot && cat > ~/.access-bot/k8s.crt'));
    expect(save).toContain('-----BEGIN CERTIFICATE-----');
    await run('bash', ['-c', save!], { env: { ...process.env, HOME: home } });
    const { stdout: subject } = await run('openssl', ['x509', '-in', join(home, '.access-bot', 'k8s.crt'), '-noout', '-subject']);
    expect(subject).toContain('CN = rita@example.com');
    expect(subject).toContain('O = developers');

    const kube = blocks.find((b) => b.includes('kubectl config set-credentials'));
    expect(kube?.split('\n')).toEqual([
      'KEY=~/.access-bot/key.pem   # your private key: the one whose public key you registered',
      'kubectl config set-credentials access-bot-k8s --client-certificate="$HOME/.access-bot/k8s.crt" --client-key="$KEY"',
      'kubectl config set-cluster prod --server=https://k8s.example.com:6443',
      'kubectl config set-context access-bot-k8s --cluster=prod --user=access-bot-k8s',
      'kubectl --context access-bot-k8s auth whoami',
    ]);
    // The certificate binds the key the user registered.
    const { stdout: certKey } = await run('openssl', ['x509', '-in', join(home, '.access-bot', 'k8s.crt'), '-noout', '-pubkey']);
    const { stdout: ownKey } = await run('openssl', ['pkey', '-in', join(home, '.access-bot', 'key.pem'), '-pubout']);
    expect(certKey).toBe(ownKey);
  });
});
