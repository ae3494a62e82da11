import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import { ticketExample } from '../../src/slack/commands/command-policy';
import { FakeSlackApi } from '../fakes/slack-api';
import { testApp, type TestApp } from '../helpers/app';
import { runCli } from '../helpers/cli';
import { shippedWorkflows } from '../helpers/shipped-workflows';

/** `cert sign` against the shipped workflows, as an admin would run it on the first day. */

let app: TestApp;
let worker: WorkerProcess;
let sshPub: string;
let x509Pub: string;
/** Mapped in the shipped identities.yaml to the login priya.nair. */
const PRIYA = 'U02H5N8QW3K';

beforeAll(async () => {
  app = await testApp({ workflows: shippedWorkflows() });
  worker = await startWorkerProcess(app.ctx);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(app.dir, 'id')]);
  sshPub = join(app.dir, 'id.pub');
  x509Pub = join(app.dir, 'x509.pem');
  writeFileSync(x509Pub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
});
afterAll(async () => {
  await worker.stop();
  await app.cleanup();
});

it('issues a certificate for every shipped resource, with --ticket and --reason where its workflow asks for them', async () => {
  const policy = app.ctx.policy;
  for (const resource of policy.resources.values()) {
    const workflow = policy.workflows.get(resource.workflow)!;
    const args = ['cert', 'sign', '--resource', resource.name, '--user', PRIYA, '--email', 'p.nair@example.com', '--pubkey', resource.ssh ? sshPub : x509Pub];
    args.push('--reason', 'rerun failed billing migration 0042', '--duration', '30m');
    if (workflow.ticket) args.push('--ticket', ticketExample(policy, resource.name));
    const r = await runCli(args, app.env);
    expect({ resource: resource.name, code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(resource.ssh ? /-cert-v01@openssh\.com / : /-----BEGIN CERTIFICATE-----/);
    const [latest] = await app.ctx.store.listByRequester(PRIYA, 1);
    expect(latest).toMatchObject({ resource: resource.name, state: 'issued', ...(workflow.ticket ? { ticket: expect.stringMatching(new RegExp(workflow.ticket.pattern!)) } : {}) });
    await app.ctx.service.revoke(latest!.id, 'cli:test', 'cli', 'test');
  }
}, 60_000);

it('a wrong --ticket is refused with the workflow’s hint', async () => {
  const r = await runCli(['cert', 'sign', '--resource', 'prod-db', '--user', PRIYA, '--pubkey', sshPub, '--reason', 'rerun failed billing migration 0042', '--ticket', 'nope'], app.env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('"nope" is not a valid ticket reference. A Jira key such as OPS-1234 or INC-567');
});

it('with Slack off, a resource that names the user by email needs --email, said before anything is registered or issued', async () => {
  const r = await runCli(['cert', 'sign', '--resource', 'staging-app', '--user', 'U0NOMAP01', '--pubkey', sshPub], app.env);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('Slack is not configured, so pass --email');
  expect(await app.ctx.keyService.list('U0NOMAP01')).toEqual([]);
  expect(await app.ctx.store.listByRequester('U0NOMAP01')).toEqual([]);
});

it('a missing --pubkey file is one line, exit 2, no stack trace', async () => {
  const r = await runCli(['cert', 'sign', '--resource', 'staging-app', '--user', PRIYA, '--pubkey', join(app.dir, 'nope.pub')], app.env);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`cert sign: cannot read the public key file ${join(app.dir, 'nope.pub')}: no such file\n`);
});

it('with Slack on, the user’s confirmed email comes from Slack: no --email needed', async () => {
  const fake = new FakeSlackApi({ users: [{ id: 'U0CAROL', name: 'carol', email: 'carol@example.com', groups: [] }], usergroups: [] });
  const apiUrl = await fake.start();
  try {
    const slack = { SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: 'x'.repeat(32), SLACK_API_URL: apiUrl };
    const out = join(app.dir, 'carol-cert.pub');
    const r = await runCli(['cert', 'sign', '--resource', 'staging-app', '--user', 'U0CAROL', '--pubkey', sshPub, '--reason', 'vendor call', '--out', out], { ...app.env, ...slack });
    expect(r.stderr).toMatch(/approved \(admin-issued\)/);
    expect(r.code).toBe(0);
    expect(execFileSync('ssh-keygen', ['-L', '-f', out]).toString()).toMatch(/Principals: \n\s+carol\n\s+deploy\n/);
  } finally {
    await fake.stop();
  }
});
