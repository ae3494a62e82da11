import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli';
import { loadPolicy } from '../../src/config/workflow-loader';
import { captureIo } from '../helpers/cli';

const ROOT = path.resolve(__dirname, '../..');
const BROKEN = 'test/config/fixtures/broken';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'access-bot-workflows-cli-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('access-bot workflows check', () => {
  it('exits 0 on the shipped examples and prints the counts and the policy hash', async () => {
    const io = captureIo(ROOT);
    expect(await main(['workflows', 'check'], io)).toBe(0);
    const { hash } = await loadPolicy(path.join(ROOT, 'workflows'));
    expect(io.out()).toBe(`ok: 6 resources, 4 workflows in 6 files (sha256 ${hash})\n`);
    expect(io.err()).toBe('');
  });

  it('exits 1 on broken files, printing each problem on its own line and a summary', async () => {
    const io = captureIo(ROOT);
    expect(await main(['workflows', 'check', BROKEN], io)).toBe(1);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[lines.length - 1]).toBe('19 problems (7 files checked)');
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^test\/config\/fixtures\/broken\/[a-z-]+\.ya?ml:\d+:\d+[ :]/);
    expect(lines).toContain(
      'test/config/fixtures/broken/workflows.yaml:20:21 workflows.prod-two-stage.stages.1.on_timeout: the last stage has no stage to escalate to',
    );
  });

  it('takes the directory from WORKFLOWS_DIR, relative to the working directory', async () => {
    const io = captureIo(path.join(ROOT, 'test'), { WORKFLOWS_DIR: 'config/fixtures/broken' });
    expect(await main(['workflows', 'check'], io)).toBe(1);
    expect(io.out()).toContain('config/fixtures/broken/empty.yml:1:1: the file is empty');
  });

  it('--json prints counts when valid', async () => {
    const io = captureIo(ROOT);
    expect(await main(['workflows', 'check', 'workflows', '--json'], io)).toBe(0);
    const body = JSON.parse(io.out()) as Record<string, unknown>;
    expect(body).toEqual({
      ok: true,
      files: [
        'workflows/admins.yaml',
        'workflows/break-glass.yaml',
        'workflows/identities.yaml',
        'workflows/kubernetes.yaml',
        'workflows/production-database.yaml',
        'workflows/staging.yaml',
      ],
      resources: 6,
      workflows: 4,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      warnings: [],
    });
  });

  it('--json prints every problem with file, line, column, field and message', async () => {
    const io = captureIo(ROOT);
    expect(await main(['workflows', 'check', '--json', BROKEN], io)).toBe(1);
    const body = JSON.parse(io.out()) as { ok: boolean; files: string[]; problems: Record<string, unknown>[] };
    expect(body.ok).toBe(false);
    expect(body.files).toHaveLength(7);
    expect(body.problems).toHaveLength(19);
    expect(body.problems).toContainEqual({
      file: 'test/config/fixtures/broken/resources.yaml',
      line: 14,
      column: 12,
      field: 'resources.db-bad-duration.duration.max',
      message: 'expected a duration like 15m, 4h, 2d or 1h30m, got "4 hours"',
    });
    expect(body.problems).toContainEqual({
      file: 'test/config/fixtures/broken/syntax-error.yaml',
      line: 6,
      column: 5,
      message: 'YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    });
  });

  it('exits 1 when the directory holds no workflow file', async () => {
    const io = captureIo(scratch);
    expect(await main(['workflows', 'check', '.'], io)).toBe(1);
    expect(io.out()).toBe('.: no workflow files (*.yaml, *.yml) in this directory\n1 problem (0 files checked)\n');
  });

  it('exits 3 when the directory cannot be read', async () => {
    const io = captureIo(scratch);
    expect(await main(['workflows', 'check', 'missing'], io)).toBe(3);
    expect(io.err()).toContain('cannot read the workflows directory');
    expect(io.out()).toBe('');
  });

  it('exits 2 on a bad command line', async () => {
    for (const argv of [
      ['workflows'],
      ['workflows', 'lint'],
      ['workflows', 'check', '--verbose'],
      ['workflows', 'check', 'a', 'b'],
      ['workflows', 'schema', '--out'],
      ['workflows', 'schema', 'extra'],
    ]) {
      const io = captureIo(ROOT);
      expect({ argv, code: await main(argv, io) }).toEqual({ argv, code: 2 });
      expect(io.err()).toMatch(/Usage: access-bot workflows/);
      expect(io.out()).toBe('');
    }
  });

  it('--help prints usage and exits 0', async () => {
    for (const argv of [['workflows', '--help'], ['workflows', 'check', '--help'], ['workflows', 'schema', '-h']]) {
      const io = captureIo(ROOT);
      expect(await main(argv, io)).toBe(0);
      expect(io.out()).toMatch(/^Usage: access-bot workflows/);
    }
  });
});

describe('access-bot workflows schema', () => {
  it('prints exactly the shipped workflows/schema.json (run `npm run schema` after changing the zod schema)', async () => {
    const io = captureIo(ROOT);
    expect(await main(['workflows', 'schema'], io)).toBe(0);
    expect(io.out()).toBe(await readFile(path.join(ROOT, 'workflows/schema.json'), 'utf8'));
  });

  it('--out writes the schema to a file relative to the working directory', async () => {
    const io = captureIo(scratch);
    expect(await main(['workflows', 'schema', '--out', 'schema.json'], io)).toBe(0);
    const schema = JSON.parse(await readFile(path.join(scratch, 'schema.json'), 'utf8')) as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties)).toEqual(['admins', 'resources', 'workflows', 'identities', 'allowed_email_domains', 'reserved_logins', 'reviews']);
    expect(schema.additionalProperties).toBe(false);
    expect(io.out()).toBe('wrote schema.json\n');
  });

  it('describes what people write: durations as text, with defaults', async () => {
    const io = captureIo(ROOT);
    await main(['workflows', 'schema'], io);
    const text = io.out();
    const schema = JSON.parse(text) as {
      properties: { workflows: { additionalProperties: { properties: { pending_ttl: Record<string, unknown> } } } };
    };
    expect(schema.properties.workflows.additionalProperties.properties.pending_ttl).toMatchObject({
      type: 'string',
      default: '24h',
    });
  });

  it('fails with exit 3 when the file cannot be written', async () => {
    await writeFile(path.join(scratch, 'file'), '');
    const io = captureIo(scratch);
    expect(await main(['workflows', 'schema', '--out', 'file/schema.json'], io)).toBe(3);
    expect(io.err()).toContain('cannot write file/schema.json');
  });
});

describe('workflows check warns about group handles that look like ids', () => {
  it('a lowercase id-shaped handle is a warning naming the id it probably meant; the files still load', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wf-warn-'));
    writeFileSync(
      path.join(dir, 'w.yaml'),
      [
        'admins:',
        '  slack_groups: [s04t8kq1n2p]',
        'resources:',
        '  box: { description: b, workflow: w, duration: { default: 1h, max: 1h }, ssh: { principals: [deploy] } }',
        'workflows:',
        '  w:',
        '    requesters: { slack_groups: [backend-engineers] }',
        '    stages: [{ name: s, approvers: { slack_groups: [S04T8KQ1N2P] } }]',
        '',
      ].join('\n'),
    );
    const io = captureIo(dir);
    expect(await main(['workflows', 'check', dir], io)).toBe(0);
    expect(io.out()).toMatch(/^warning: .*w\.yaml:2:\d+ admins\.slack_groups\.0: "s04t8kq1n2p" looks like a user group id, but ids are uppercase \(S04T8KQ1N2P\)/m);
    expect(io.out()).toMatch(/ok: 1 resource, 1 workflow in 1 file .*1 warning/);
  });

  it('two people mapped to one login is a problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wf-ident-'));
    writeFileSync(path.join(dir, 'a.yaml'), 'identities:\n  U0AAAAAAA1: jdoe\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'identities:\n  U0BBBBBBB2: jdoe\n');
    const io = captureIo(dir);
    expect(await main(['workflows', 'check', dir], io)).toBe(1);
    expect(io.out()).toMatch(/b\.yaml:2:3 identities\.U0BBBBBBB2: login "jdoe" is also given to U0AAAAAAA1 at .*a\.yaml:2:3/);
  });
});
