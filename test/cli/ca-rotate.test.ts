import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { initCa } from '../../src/ca/ca-directory';
import { runCli } from '../helpers/cli';

/** `access-bot ca rotate` refuses a grace shorter than the longest certificate the workflows allow (issue 7, item 7). */

const REPO = resolve(__dirname, '../..');
const env = { REDIS_URL: 'redis://127.0.0.1:1' }; // unreachable on purpose: rotation works without Redis (it warns it could not audit)
const work = mkdtempSync(join(tmpdir(), 'ca-rotate-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function freshCa(): string {
  const dir = join(work, `ca-${n++}`);
  initCa(dir);
  return dir;
}

function workflowsWithMax(max: string): string {
  const dir = join(work, `workflows-${n++}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'access.yaml'),
    stringify({
      resources: {
        'quick-box': { description: 'short', workflow: 'open', duration: { default: '15m', max: '1h' }, ssh: { principals: ['deploy'], extensions: [] } },
        'long-box': { description: 'long', workflow: 'open', duration: { default: '1h', max }, ssh: { principals: ['deploy'], extensions: [] } },
      },
      workflows: { open: { requesters: { everyone: true }, stages: [{ name: 'lead', approvers: { users: ['ULEAD'] } }] } },
    }),
  );
  return dir;
}

describe('access-bot ca rotate --grace', () => {
  it('refuses a 5 s grace when a resource allows day-long certificates, saying what the minimum is and why', async () => {
    const dir = freshCa();
    const before = readFileSync(join(dir, 'ssh_user_ca'));
    const r = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '5s'], { ...env, WORKFLOWS_DIR: workflowsWithMax('1d') });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^CA_ROTATION_GRACE_TOO_SHORT: --grace 5s is shorter than the longest certificate the workflows allow \(1d, resource "long-box" \(\S*access\.yaml:\d+\)\)/);
    expect(r.stderr).toMatch(/stay trusted until every certificate it signed has expired/);
    expect(r.stderr).toMatch(/Use --grace 1d or longer/);
    expect(readFileSync(join(dir, 'ssh_user_ca'))).toEqual(before);
    expect(existsSync(join(dir, 'previous.json'))).toBe(false);
  });

  it('takes the workflow files from --workflows over WORKFLOWS_DIR, and accepts a grace as long as the longest certificate', async () => {
    const dir = freshCa();
    const r = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '8h', '--workflows', workflowsWithMax('8h')], {
      ...env,
      WORKFLOWS_DIR: workflowsWithMax('2d'),
    });
    expect(r.stderr).not.toMatch(/GRACE_TOO_SHORT/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the previous CA stays trusted until \S+, and its revoked certificates stay in the KRL and CRL until \S+\./);
    expect(r.stdout).not.toMatch(/warning/);
  });

  it('--allow-short-grace rotates anyway, warns, and keeps the old CA for its revocation lists until its certificates expire', async () => {
    const dir = freshCa();
    const workflows = workflowsWithMax('1d');
    const started = Date.now();
    const r = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '5s', '--workflows', workflows, '--allow-short-grace'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: the grace is shorter than the longest certificate \(1d\)/);
    const trust = JSON.parse(readFileSync(join(dir, 'previous.json'), 'utf8')) as { previous: { retiredAt: number; trustUntil: number; retainUntil: number }[] };
    const [entry] = trust.previous;
    expect(entry!.trustUntil - entry!.retiredAt).toBe(5_000);
    expect(entry!.retainUntil - entry!.retiredAt).toBe(86_400_000);
    expect(entry!.retiredAt).toBeGreaterThanOrEqual(started);

    const show = await runCli(['ca', 'show', '--dir', dir], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/revocations listed until/);
  });

  it('refuses to guess when the workflow files cannot be read', async () => {
    const dir = freshCa();
    const r = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '7d', '--workflows', join(work, 'missing')], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CONFIG_INVALID: ca rotate reads the workflow files .* --workflows DIR/);
    expect(r.stderr).toMatch(/cannot read the workflows directory/);
    expect(existsSync(join(dir, 'previous.json'))).toBe(false);
  });

  it('the docs example `ca rotate --grace 7d` passes against the shipped workflows, and 5s does not', async () => {
    const dir = freshCa();
    const refused = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '5s'], env, REPO);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/Use --grace 1d or longer/);
    const ok = await runCli(['ca', 'rotate', '--dir', dir, '--grace', '7d'], env, REPO);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/SIGHUP/);
  });
});
