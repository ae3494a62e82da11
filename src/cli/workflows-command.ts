import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { workflowJsonSchemaText } from '../config/workflow-json-schema';
import { loadWorkflows } from '../config/workflow-loader';
import { loadEnv, type Env } from '../config/env';
import type { Policy } from '../config/policy';
import { formatProblem, type WorkflowProblem } from '../config/workflow-problem';
import { ConfigError } from '../errors/config-error';
import { EXIT, type CliCommand, type CliIo } from './cli-io';
import { UsageError } from './usage-error';
import { workflowsSimulateCommand } from './workflows-simulate-command';

const USAGE = `Usage: access-bot workflows <subcommand> [options]

Subcommands:
  check [dir] [--json] [--env]
                           validate every workflow file; lists each problem as file:line:column field: problem
  schema [--out FILE]      print (or write) the JSON Schema editors use to autocomplete workflow files
  simulate ...             show what a request would go through, without side effects
                           (access-bot workflows simulate --help)
`;

const CHECK_USAGE = `Usage: access-bot workflows check [dir] [--json] [--env]

Reads every *.yaml and *.yml file in dir (default: $WORKFLOWS_DIR, else ./workflows) and reports
every problem as  file:line:column field: problem.

Options:
  --json      print one JSON object: {"ok":true,...counts} or {"ok":false,"problems":[...]}
  --env       also check the files against the settings in the environment: a workflow that
              approves in Jira while Jira is off is a problem
  -h, --help  show this help

Exit codes: 0 valid, 1 problems found, 2 bad command line, 3 directory or file unreadable.
`;

const SCHEMA_USAGE = `Usage: access-bot workflows schema [--out FILE]

Prints the JSON Schema of a workflow file, or writes it to FILE (npm run schema writes
workflows/schema.json). Workflow files point at it on their first line:
  # yaml-language-server: $schema=./schema.json

Options:
  --out FILE  write to FILE instead of stdout
  -h, --help  show this help
`;

export const workflowsCommand: CliCommand = async (args, io) => {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'check':
      return checkCommand(rest, io);
    case 'schema':
      return schemaCommand(rest, io);
    case 'simulate':
      return workflowsSimulateCommand(rest, io);
    case '--help':
    case '-h':
    case 'help':
      io.stdout.write(USAGE);
      return EXIT.OK;
    case undefined:
      throw new UsageError(`Missing subcommand.\n\n${USAGE.trimEnd()}`);
    default:
      throw new UsageError(`Unknown subcommand "workflows ${subcommand}".\n\n${USAGE.trimEnd()}`);
  }
};

async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(CHECK_USAGE, () =>
    parseArgs({
      args,
      options: { json: { type: 'boolean' }, env: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return EXIT.OK;
  }
  if (positionals.length > 1) throw new UsageError(`Expected at most one directory.\n\n${CHECK_USAGE.trimEnd()}`);

  const dir = positionals[0] ?? (io.env.WORKFLOWS_DIR?.trim() || './workflows');
  const loaded = await loadWorkflows(path.resolve(io.cwd, dir), { displayRoot: io.cwd });
  const { warnings, files } = loaded;
  let { policy, problems } = loaded;
  if (values.env && policy) {
    const envProblems = environmentProblems(policy, io.env);
    if (envProblems.length > 0) {
      problems = envProblems;
      policy = undefined;
    }
  }

  if (values.json) {
    const body = policy
      ? { ok: true, files, resources: policy.resources.size, workflows: policy.workflows.size, sha256: policy.hash, warnings }
      : { ok: false, files, problems, warnings };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (policy) {
    io.stdout.write(
      [
        ...warnings.map((w) => `warning: ${formatProblem(w)}`),
        `ok: ${count(policy.resources.size, 'resource')}, ${count(policy.workflows.size, 'workflow')} in ${count(files.length, 'file')} (sha256 ${policy.hash})` +
          (warnings.length ? `, ${count(warnings.length, 'warning')}` : ''),
      ].join('\n') + '\n',
    );
  } else {
    const lines = [...problems.map(formatProblem), ...warnings.map((w) => `warning: ${formatProblem(w)}`)];
    lines.push(`${count(problems.length, 'problem')} (${count(files.length, 'file')} checked)`);
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return policy ? EXIT.OK : EXIT.NEGATIVE;
}

async function schemaCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(SCHEMA_USAGE, () =>
    parseArgs({
      args,
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }),
  );
  if (values.help) {
    io.stdout.write(SCHEMA_USAGE);
    return EXIT.OK;
  }
  const text = workflowJsonSchemaText();
  if (values.out === undefined) {
    io.stdout.write(text);
    return EXIT.OK;
  }
  if (values.out.trim() === '') throw new UsageError(`--out needs a file name.\n\n${SCHEMA_USAGE.trimEnd()}`);
  const target = path.resolve(io.cwd, values.out);
  try {
    await writeFile(target, text);
  } catch (err) {
    io.stderr.write(`cannot write ${values.out}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILURE;
  }
  io.stdout.write(`wrote ${values.out}\n`);
  return EXIT.OK;
}

/** util.parseArgs reports a bad command line by throwing; make that a usage error (exit 2). */
function parseOptions<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${(err as Error).message}\n\n${usage.trimEnd()}`);
    }
    throw err;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * What the workflow files ask of the settings in force: a workflow approving in Jira while Jira is
 * off would send its requests to Slack DMs instead. Settings that do not parse are a problem too.
 */
function environmentProblems(policy: Policy, source: NodeJS.ProcessEnv): WorkflowProblem[] {
  let env: Env;
  try {
    env = loadEnv(source);
  } catch (err) {
    const details = err instanceof ConfigError ? err.problems : [err instanceof Error ? err.message : String(err)];
    return details.map((message: string) => ({ file: '(environment)', line: 0, column: 0, message }));
  }
  if (env.jira) return [];
  return [...policy.workflows.values()]
    .filter((w) => w.approval.jira)
    .map((w) => ({
      file: w.source.file,
      line: w.source.line,
      column: 1,
      field: `workflows.${w.name}.approval.jira`,
      message: 'approves in Jira, but Jira is off in this environment (set JIRA_URL, JIRA_EMAIL, JIRA_API_TOKEN and JIRA_WEBHOOK_SECRET): its requests would go to Slack DMs instead',
    }));
}
