import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowsUnreadableError } from '../../src/config/errors/workflows-unreadable-error';
import { loadPolicy, loadWorkflows } from '../../src/config/workflow-loader';
import { formatProblem } from '../../src/config/workflow-problem';
import { ConfigError } from '../../src/errors/config-error';

const ROOT = path.resolve(__dirname, '../..');
const SHIPPED = path.join(ROOT, 'workflows');
const BROKEN = path.join(ROOT, 'test/config/fixtures/broken');

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'access-bot-workflows-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes files into the scratch directory and loads it, naming files relative to it. */
async function loadFiles(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(scratch, name), text);
  return loadWorkflows(scratch, { displayRoot: scratch });
}

const MINIMAL_WORKFLOW = `workflows:
  basic:
    requesters: { everyone: true }
    stages:
      - name: lead
        approvers: { slack_groups: [leads] }
`;

describe('the shipped examples', () => {
  it('load without a problem, with durations in milliseconds and defaults applied', async () => {
    const { policy, problems } = await loadWorkflows(SHIPPED, { displayRoot: ROOT });
    expect(problems).toEqual([]);
    expect(policy).toBeDefined();
    if (!policy) return;

    expect([...policy.resources.keys()].sort()).toEqual([
      'k8s-prod-eu1-admin',
      'k8s-prod-eu1-edit',
      'prod-db',
      'prod-db-replica',
      'prod-root-breakglass',
      'staging-app',
    ]);
    expect([...policy.workflows.keys()].sort()).toEqual(['kubernetes-jira', 'oncall-break-glass', 'prod-two-stage', 'staging-team']);
    expect(policy.files).toEqual([
      'workflows/admins.yaml',
      'workflows/break-glass.yaml',
      'workflows/identities.yaml',
      'workflows/kubernetes.yaml',
      'workflows/production-database.yaml',
      'workflows/staging.yaml',
    ]);

    const db = policy.resources.get('prod-db');
    expect(db?.duration).toEqual({ default: 3_600_000, max: 4 * 3_600_000 });
    expect(db?.ssh?.principals).toEqual(['{{user.username}}', 'postgres-ops']);
    expect(policy.resources.get('prod-db-replica')?.ssh?.extensions).toEqual(['permit-pty']);

    const twoStage = policy.workflows.get('prod-two-stage');
    expect(twoStage?.stages.map((s) => [s.name, s.timeout, s.on_timeout])).toEqual([
      ['backend lead', 30 * 60_000, 'escalate'],
      ['security', 2 * 3_600_000, undefined],
    ]);
    expect(twoStage?.pending_ttl).toBe(4 * 3_600_000);
    expect(policy.workflows.get('staging-team')?.auto_approve).toEqual([
      { requesters: { slack_groups: ['backend-engineers'] }, max_duration: 4 * 3_600_000 },
    ]);
    const breakGlass = policy.workflows.get('oncall-break-glass')?.break_glass;
    expect(breakGlass).toMatchObject({ require_active_incident: true, max_duration: 3_600_000, review_required: true });
    expect(policy.workflows.get('kubernetes-jira')?.approval.jira).toEqual({
      project: 'PLAT',
      issue_type: 'Access Request',
      approved_status: 'Approved',
      denied_status: 'Declined',
      expired_status: 'Done',
    });
    expect(policy.resources.get('k8s-prod-eu1-admin')?.x509?.common_name).toBe('{{user.email}}');
    expect(policy.admins).toEqual({ users: ['U02H5N8QW3K', 'U03JZ7P1LMA'], slack_groups: ['S04T8KQ1N2P'] });
  });

  it('record the line each resource and workflow is defined on', async () => {
    const policy = await loadPolicy(SHIPPED, { displayRoot: ROOT });
    const definitions = [...policy.resources.values(), ...policy.workflows.values()];
    expect(definitions).toHaveLength(10);
    for (const { name, source } of definitions) {
      const lines = (await readFile(path.join(ROOT, source.file), 'utf8')).split('\n');
      expect(lines[source.line - 1]).toMatch(new RegExp(`^  ${name.replace(/[.]/g, '\\.')}:`));
    }
  });

  it('each reference the schema on their first line', async () => {
    const names = (await readdir(SHIPPED)).filter((n) => n.endsWith('.yaml'));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const first = (await readFile(path.join(SHIPPED, name), 'utf8')).split('\n')[0];
      expect(first).toBe('# yaml-language-server: $schema=./schema.json');
    }
  });
});

describe('the policy hash', () => {
  it('is sha256 over each file name and bytes, independent of where the directory is', async () => {
    await cp(SHIPPED, scratch, { recursive: true });
    const here = await loadPolicy(SHIPPED);
    const copy = await loadPolicy(scratch);
    expect(copy.hash).toBe(here.hash);
    expect(here.hash).toMatch(/^[0-9a-f]{64}$/);

    const expected = createHash('sha256');
    for (const file of here.files.map((f) => path.basename(f)).sort()) {
      const bytes = await readFile(path.join(SHIPPED, file));
      expected.update(`${file}\0${bytes.length}\0`).update(bytes);
    }
    expect(here.hash).toBe(expected.digest('hex'));
  });

  it('changes when one byte of one file changes, or a file is renamed', async () => {
    await cp(SHIPPED, scratch, { recursive: true });
    const before = (await loadPolicy(scratch)).hash;
    const staging = path.join(scratch, 'staging.yaml');
    await writeFile(staging, (await readFile(staging, 'utf8')).replace('max: 1d', 'max: 2d'));
    const edited = (await loadPolicy(scratch)).hash;
    expect(edited).not.toBe(before);
    await cp(staging, path.join(scratch, 'staging2.yaml'));
    await rm(staging);
    expect((await loadPolicy(scratch)).hash).not.toBe(edited);
  });
});

describe('broken files', () => {
  const EXPECTED = [
    'test/config/fixtures/broken/duplicate-key.yaml:8:5 workflows.on-call.pending_ttl: duplicate key "pending_ttl" (first at line 7): each key may appear once in a mapping',
    'test/config/fixtures/broken/duplicate.yaml:2:3 resources.shared-db: resource "shared-db" is also defined at test/config/fixtures/broken/resources.yaml:43:3: names must be unique across all files',
    'test/config/fixtures/broken/empty.yml:1:1: the file is empty: add resources, workflows or admins',
    'test/config/fixtures/broken/names.yaml:2:3 resources.Staging Web: "Staging Web" is not a valid name: use lowercase letters, digits, ".", "_" and "-" (at most 63 characters)',
    'test/config/fixtures/broken/names.yaml:5:26 resources.Staging Web.duration.default: expected a duration like 15m, 4h, 2d or 1h30m, got the number 30',
    'test/config/fixtures/broken/resources.yaml:3:3 resources.db-typo.duration: missing required key "duration"',
    'test/config/fixtures/broken/resources.yaml:6:5 resources.db-typo.duraton: unknown key "duraton"; did you mean "duration"? (allowed here: description, workflow, duration, pagerduty_service, risk, ssh, x509)',
    'test/config/fixtures/broken/resources.yaml:14:12 resources.db-bad-duration.duration.max: expected a duration like 15m, 4h, 2d or 1h30m, got "4 hours"',
    'test/config/fixtures/broken/resources.yaml:20:26 resources.db-default-too-long.duration.default: default is longer than max',
    'test/config/fixtures/broken/resources.yaml:28:7 resources.db-no-principals.ssh.principals: a certificate needs at least one principal (sshd refuses an empty list)',
    'test/config/fixtures/broken/resources.yaml:29:3 resources.db-both-kinds: a resource yields exactly one certificate kind: ssh or x509',
    'test/config/fixtures/broken/resources.yaml:39:15 resources.db-missing-workflow.workflow: no workflow named "prod-tow-stage" in any file; did you mean "prod-two-stage"?',
    'test/config/fixtures/broken/resources.yaml:43:3 resources.shared-db: resource "shared-db" is also defined at test/config/fixtures/broken/duplicate.yaml:2:3: names must be unique across all files',
    'test/config/fixtures/broken/syntax-error.yaml:6:5: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    'test/config/fixtures/broken/workflows.yaml:8:5 workflows.prod-two-stage.requesters: name someone: everyone: true, users or slack_groups',
    'test/config/fixtures/broken/workflows.yaml:9:7 workflows.prod-two-stage.requesters.slack_group: unknown key "slack_group"; did you mean "slack_groups"? (allowed here: everyone, users, slack_groups)',
    'test/config/fixtures/broken/workflows.yaml:11:16 workflows.prod-two-stage.reason.pattern: not a valid regular expression',
    'test/config/fixtures/broken/workflows.yaml:18:20 workflows.prod-two-stage.stages.1.approvals: must be at least 1, got 0',
    'test/config/fixtures/broken/workflows.yaml:20:21 workflows.prod-two-stage.stages.1.on_timeout: the last stage has no stage to escalate to',
  ];

  it('are all reported in one run, each at its file:line:column and field, sorted by file and line', async () => {
    const { policy, problems, files } = await loadWorkflows(BROKEN, { displayRoot: ROOT });
    expect(policy).toBeUndefined();
    expect(files).toHaveLength(7);
    expect(problems.map(formatProblem)).toEqual(EXPECTED);
  });

  it('make loadPolicy throw a ConfigError that lists every problem', async () => {
    const error = await loadPolicy(BROKEN, { displayRoot: ROOT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(EXPECTED);
    expect((error as ConfigError).message).toContain('19 problems in the workflow files');
  });
});

describe('more mistakes people make', () => {
  it('a number where text belongs says to quote it; an empty value is named as such', async () => {
    const { problems } = await loadFiles({
      'a.yaml': `${MINIMAL_WORKFLOW}resources:
  web:
    description: 42
    workflow: basic
    duration: { default: 1h, max: 2h }
    ssh:
      principals: [app]
      source_address:
`,
    });
    expect(problems.map(formatProblem)).toEqual([
      'a.yaml:9:18 resources.web.description: expected text (write it in quotes: "42"), got the number 42',
      'a.yaml:14:7 resources.web.ssh.source_address: expected a list, got an empty value',
    ]);
  });

  it('an enum value, a Slack id and a stage missing its approvers', async () => {
    const { problems } = await loadFiles({
      'a.yaml': `workflows:
  basic:
    requesters: { users: [bob] }
    stages:
      - name: lead
        approvers: { slack_groups: [leads] }
        timeout: 1h
        on_timeout: retry
      - name: security
`,
    });
    expect(problems.map(formatProblem)).toEqual([
      'a.yaml:3:27 workflows.basic.requesters.users.0: expected a Slack user id like U012ABCDEF or an email address, got "bob"',
      'a.yaml:8:21 workflows.basic.stages.0.on_timeout: expected one of "escalate", "expire"; got "retry"',
      'a.yaml:9:9 workflows.basic.stages.1.approvers: missing required key "approvers"',
    ]);
  });

  it('a file that is a list, a file with two documents, and tab indentation', async () => {
    const { problems } = await loadFiles({
      'list.yaml': '- resources\n- workflows\n',
      'two.yaml': `${MINIMAL_WORKFLOW}---\nadmins: { everyone: true }\n`,
      'tabs.yaml': 'admins:\n\tusers: [U0ADMIN001]\n',
    });
    expect(problems.map(formatProblem)).toEqual([
      'list.yaml:1:1: expected a mapping with the keys admins, resources, workflows, identities, allowed_email_domains, reserved_logins, reviews, got a list',
      'tabs.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation',
      'two.yaml:7:1: a workflow file holds one YAML document: remove the "---" line or split the file',
    ]);
  });

  it('a workflow defined in two files is reported at both, and a reference to it is satisfied', async () => {
    const { problems } = await loadFiles({
      'a.yaml': MINIMAL_WORKFLOW,
      'b.yaml': `\n\n${MINIMAL_WORKFLOW}resources:
  web:
    description: uses the duplicated workflow
    workflow: basic
    duration: { default: 1h, max: 2h }
    ssh: { principals: [app] }
`,
    });
    expect(problems.map(formatProblem)).toEqual([
      'a.yaml:2:3 workflows.basic: workflow "basic" is also defined at b.yaml:4:3: names must be unique across all files',
      'b.yaml:4:3 workflows.basic: workflow "basic" is also defined at a.yaml:2:3: names must be unique across all files',
    ]);
  });

  it('a reference to a workflow is checked across files, even when that file has other problems', async () => {
    const { problems } = await loadFiles({
      'a.yaml': `resources:
  web:
    description: its workflow lives in b.yaml
    workflow: basic
    duration: { default: 1h, max: 2h }
    ssh: { principals: [app] }
  api:
    description: names no workflow any file defines
    workflow: nowhere
    duration: { default: 1h, max: 2h }
    ssh: { principals: [app] }
`,
      'b.yaml': MINIMAL_WORKFLOW.replace('everyone: true', 'everyone: yes'),
    });
    expect(problems.map(formatProblem)).toEqual([
      'a.yaml:9:15 resources.api.workflow: no workflow named "nowhere" in any file (defined: basic)',
      'b.yaml:3:29 workflows.basic.requesters.everyone: expected true or false, got "yes"',
    ]);
  });

  it('anchors and aliases work; a problem inside an anchor points at it and names the alias that used it', async () => {
    const { policy, problems } = await loadFiles({
      'a.yaml': `workflows:
  basic:
    requesters: &engineers { slack_groups: [engineers] }
    stages:
      - name: lead
        approvers: &leads { slack_groups: [leads] }
  other:
    requesters: *engineers
    stages:
      - name: lead
        approvers: *leads
        approvals: 2
`,
    });
    expect(problems).toEqual([]);
    expect(policy?.workflows.get('other')?.requesters).toEqual({ slack_groups: ['engineers'] });
    expect(policy?.workflows.get('other')?.stages[0]?.approvals).toBe(2);

    const broken = await loadFiles({
      'a.yaml': `admins: &who { users: [nobody] }\nworkflows:\n  basic:\n    requesters: *who\n    stages: [{ name: lead, approvers: *who }]\n`,
    });
    expect(broken.problems.map(formatProblem)).toEqual([
      'a.yaml:1:24 admins.users.0: expected a Slack user id like U012ABCDEF or an email address, got "nobody"',
      'a.yaml:1:24 workflows.basic.requesters.users.0: expected a Slack user id like U012ABCDEF or an email address, got "nobody" (used through the alias at line 4)',
      'a.yaml:1:24 workflows.basic.stages.0.approvers.users.0: expected a Slack user id like U012ABCDEF or an email address, got "nobody" (used through the alias at line 5)',
    ]);
  });

  it('admins from every file are merged', async () => {
    const { policy, problems } = await loadFiles({
      'a.yaml': `admins: { users: [U0ADMIN001, alice@example.com] }\n${MINIMAL_WORKFLOW}`,
      'b.yaml': 'admins: { users: [U0ADMIN001, U0ADMIN002], slack_groups: ["@security"] }\n',
    });
    expect(problems).toEqual([]);
    expect(policy?.admins).toEqual({ users: ['U0ADMIN001', 'alice@example.com', 'U0ADMIN002'], slack_groups: ['security'] });
  });
});

describe('the directory', () => {
  it('reads only *.yaml and *.yml files at its top level, and not dotfiles', async () => {
    await writeFile(path.join(scratch, 'schema.json'), '{ not yaml');
    await writeFile(path.join(scratch, 'notes.txt'), 'resources: [');
    await writeFile(path.join(scratch, '.draft.yaml'), 'resources: [');
    const { policy, files } = await loadFiles({ 'one.yml': MINIMAL_WORKFLOW, 'two.YAML': 'admins: { everyone: true }\n' });
    expect(files).toEqual(['one.yml', 'two.YAML']);
    expect(policy?.workflows.has('basic')).toBe(true);
  });

  it('with no workflow file is a problem, not an empty policy', async () => {
    const { policy, problems } = await loadWorkflows(scratch, { displayRoot: path.dirname(scratch) });
    expect(policy).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([`${path.basename(scratch)}: no workflow files (*.yaml, *.yml) in this directory`]);
  });

  it('that does not exist cannot be loaded at all', async () => {
    const missing = path.join(scratch, 'nope');
    await expect(loadWorkflows(missing)).rejects.toThrow(WorkflowsUnreadableError);
    await expect(loadWorkflows(missing)).rejects.toThrow(/no such file or directory/);
  });
});
