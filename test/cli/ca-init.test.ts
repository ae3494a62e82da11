import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';

/** `access-bot ca init` and the CA directory's own permissions (issue 7). */

const env = { REDIS_URL: 'redis://127.0.0.1:1' }; // unreachable on purpose: ca init works before Redis exists
const work = mkdtempSync(join(tmpdir(), 'ca-init-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function existingDir(mode: number): string {
  const dir = join(work, `ca-${n++}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

describe('access-bot ca init --dir into an existing directory', () => {
  it('tightens a world-writable directory to 0700 and says so', async () => {
    const dir = existingDir(0o777);
    const r = await runCli(['ca', 'init', '--dir', dir], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Tightened ${dir} from mode 0777 to 0700.`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a directory another user owns, naming the commands that fix it, and creates nothing', async () => {
    const dir = existingDir(0o777);
    chownSync(dir, 12345, 12345);
    const r = await runCli(['ca', 'init', '--dir', dir], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`CA_FILE_OWNER: ${dir} is owned by uid 12345`);
    expect(r.stderr).toContain(`chown ${process.getuid!()} ${dir} && chmod 700 ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ca show refuses a CA directory others can write to, as the worker does', async () => {
    const dir = existingDir(0o700);
    expect((await runCli(['ca', 'init', '--dir', dir], env)).code).toBe(0);
    chmodSync(dir, 0o777);
    const r = await runCli(['ca', 'show', '--dir', dir], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`CA_DIR_PERMISSIONS: ${dir} is writable by its group and all users (mode 0777)`);
    expect(r.stderr).toContain(`chmod go-w ${dir}`);
  });
});
