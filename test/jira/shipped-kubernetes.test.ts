import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { accessRequestProject, type FakeJiraUser } from '../fakes/jira-api';
import type { FakeSlackMessage, FakeSlackUser } from '../fakes/slack-api';
import { opensslOk, ScratchDir } from '../ca/x509/openssl-cli';
import { eventually } from '../helpers/app';
import { JiraE2e, x509PublicKey } from './jira-e2e';

/**
 * The shipped `workflows/kubernetes.yaml`, as written, with Jira pointed at a PLAT project: a
 * platform engineer asks for k8s-prod-eu1-edit, a platform lead moves the issue to Approved, and
 * the requester's kubeconfig certificate verifies against the bot's /ca/x509_ca.pem (docs/jira.md).
 */

const shipped = parse(readFileSync(join(__dirname, '../../workflows/kubernetes.yaml'), 'utf8')) as Record<string, unknown>;

const ENGINEER = { id: 'U0PLATENG', name: 'priya', email: 'priya@example.com', realName: 'Priya Platform', groups: ['S0PLATENG'] } satisfies FakeSlackUser;
const MARIA = { id: 'U0MARIA01', name: 'maria', email: 'maria.garcia@example.com', realName: 'Maria Garcia', groups: [] } satisfies FakeSlackUser;
const J = {
  maria: { accountId: '712020:maria-garcia', displayName: 'Maria Garcia', email: MARIA.email },
  priya: { accountId: '712020:priya', displayName: 'Priya Platform', email: ENGINEER.email },
  bot: { accountId: '712020:access-bot', displayName: 'access-bot', email: 'access-bot@example.com' },
} satisfies Record<string, FakeJiraUser>;

let t: JiraE2e;
const dir = new ScratchDir();

beforeAll(async () => {
  t = await JiraE2e.start({
    workflows: shipped,
    users: [ENGINEER, MARIA],
    usergroups: [
      { id: 'S0PLATENG', handle: 'platform-engineers' },
      { id: 'S0PLATLDS', handle: 'platform-leads' },
    ],
    jira: { users: [J.maria, J.priya], apiUser: J.bot, projects: [accessRequestProject('PLAT', 'Access Request')] },
  });
  await t.ctx.keyService.register(ENGINEER.id, x509PublicKey(), 'slack');
}, 60_000);

afterAll(async () => {
  await t?.stop();
  dir.remove();
});

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function pemIn(message: FakeSlackMessage): string | undefined {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(strings(message.blocks).join('\n'))?.[0];
}

test('k8s-prod-eu1-edit is approved by moving its PLAT issue to Approved; the kubeconfig certificate verifies against /ca/x509_ca.pem', async () => {
  const submitted = await t.ctx.service.submit(ENGINEER.id, { resource: 'k8s-prod-eu1-edit', reason: 'Scale the ingress in namespace web', ticket: 'PLAT-2417', via: 'slack' });
  if (submitted.status !== 'ok') throw new Error(submitted.message);
  const request = submitted.request;
  const issue = await t.issueOf(request.id);
  expect(issue.issueType).toBe('Access Request');
  expect(JSON.stringify(issue.description)).toContain(`${t.jira.url}/browse/PLAT-2417`);

  t.jira.move(issue.key, 'Approved', J.maria.accountId);
  expect((await t.deliver(issue.key)).status).toBe(202);
  const issued = await t.e2e.waitForState(request.id, 'issued', 15_000);
  expect(issued.reviews).toEqual([expect.objectContaining({ by: MARIA.id, via: 'jira' })]);

  const dm = await eventually(() => t.e2e.messagesWith('kubectl config set-credentials access-bot-k8s-prod-eu1-edit').find((m) => pemIn(m)), 10_000, 'the kubeconfig DM');
  const certificate = dir.write('cert.pem', `${pemIn(dm)!}\n`);
  const res = await fetch(`http://127.0.0.1:${t.e2e.bot.port}/ca/x509_ca.pem`);
  expect(res.status).toBe(200);
  const caFile = dir.write('x509_ca.pem', await res.text());
  expect(opensslOk(['verify', '-CAfile', caFile, certificate]).stdout.trim()).toBe(`${certificate}: OK`);
  const subject = opensslOk(['x509', '-in', certificate, '-noout', '-subject']).stdout;
  expect(subject).toMatch(/CN\s*=\s*priya@example.com/);
  expect(subject).toMatch(/O\s*=\s*access-bot:prod-eu1-edit/);
  await t.commentMatching(issue.key, /Certificate issued \(X\.509\)/);
}, 40_000);
