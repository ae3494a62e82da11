import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBotProcess, type BotProcess } from '../../src/app/bot-process';
import { startWorkerProcess, type WorkerProcess } from '../../src/app/worker-process';
import { eventually, testApp, type TestApp } from '../helpers/app';
import { runCli } from '../helpers/cli';

const workflows = {
  resources: {
    box: { description: 'box', workflow: 'w', duration: { default: '1h', max: '2h' }, ssh: { principals: ['{{user.username}}'] } },
  },
  workflows: { w: { requesters: { users: ['UNOBODY'] }, stages: [{ name: 's', approvers: { users: ['ULEAD'] } }] } },
};

let app: TestApp;
let worker: WorkerProcess;
let bot: BotProcess;

beforeAll(async () => {
  app = await testApp({ workflows });
  worker = await startWorkerProcess(app.ctx);
  bot = await startBotProcess(app.ctx, [], 0);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(app.dir, 'id')]);
});
afterAll(async () => {
  await bot.stop();
  await worker.stop();
  await app.cleanup();
});

it('cert sign issues an admin certificate through the queue, audited, and cert revoke puts it in the KRL', async () => {
  const out = join(app.dir, 'id-cert.pub');
  const signed = await runCli(
    ['cert', 'sign', '--resource', 'box', '--user', 'UCAROL', '--email', 'carol@example.com', '--pubkey', join(app.dir, 'id.pub'), '--duration', '30m', '--out', out, '--reason', 'vendor escalation'],
    app.env,
  );
  expect(signed.stderr).toMatch(/approved \(admin-issued\)/);
  expect(signed.code).toBe(0);
  const listing = execFileSync('ssh-keygen', ['-L', '-f', out]).toString();
  expect(listing).toMatch(/Key ID: "ar-\S+ user=carol@example.com resource=box approved-by=admin"/);
  expect(listing).toMatch(/Principals: \n\s+carol\n/);

  const id = /Key ID: "(ar-\S+)/.exec(listing)![1]!;
  const request = await app.ctx.store.get(id);
  expect(request).toMatchObject({ state: 'issued', adminIssued: { by: expect.stringMatching(/^cli:/) }, reason: 'vendor escalation' });
  const types: string[] = [];
  for await (const e of app.ctx.audit.read()) if (e.requestId === id) types.push(e.type);
  expect(types).toEqual(['request.created', 'request.approved', 'cert.issued']);

  const shown = await runCli(['cert', 'show', '--request', id], app.env);
  expect(shown.stdout).toContain(`request:   ${id} (issued)`);

  const revoked = await runCli(['cert', 'revoke', '--request', id, '--reason', 'done'], app.env);
  expect(revoked.code).toBe(0);
  await eventually(async () => {
    writeFileSync(join(app.dir, 'krl'), Buffer.from(await (await fetch(`http://127.0.0.1:${bot.port}/ca/revoked.krl`)).arrayBuffer()));
    return spawnSync('ssh-keygen', ['-Q', '-f', join(app.dir, 'krl'), out]).stdout.toString().includes('REVOKED') ? true : undefined;
  }, 10_000, 'KRL revokes the admin certificate');
});

it('cert sign refuses a weak key with the reason, audited, and issues nothing', async () => {
  const weak = join(app.dir, 'weak.pub');
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', join(app.dir, 'weak')]);
  expect(readFileSync(weak, 'utf8')).toMatch(/^ssh-rsa /);
  const r = await runCli(['cert', 'sign', '--resource', 'box', '--user', 'UDAVE', '--email', 'dave@example.com', '--pubkey', weak], app.env);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/The public key was refused: .*2048/);
  expect(await app.ctx.store.listByRequester('UDAVE')).toEqual([]);
  const refusals: string[] = [];
  for await (const e of app.ctx.audit.read()) if (e.type === 'key.refused' && e.data.user === 'UDAVE') refusals.push(String(e.data.code));
  expect(refusals).toEqual(['SSH_KEY_TOO_WEAK']);
});

it('cert sign refuses an unknown resource and a duration over the maximum', async () => {
  const unknown = await runCli(['cert', 'sign', '--resource', 'nope', '--user', 'UE', '--pubkey', join(app.dir, 'id.pub')], app.env);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/UNKNOWN_RESOURCE/);
  const long = await runCli(['cert', 'sign', '--resource', 'box', '--user', 'UE', '--email', 'e@example.com', '--pubkey', join(app.dir, 'id.pub'), '--duration', '3h'], app.env);
  expect(long.code).toBe(1);
  expect(long.stderr).toMatch(/DURATION_TOO_LONG.*maximum of 2h/);
});
