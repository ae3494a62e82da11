import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors/config-error';
import { WorkflowsUnreadableError } from './errors/workflows-unreadable-error';
import type { AccessReview, Policy, Resource, Workflow } from './policy';
import { BUILTIN_RESERVED_LOGINS } from './reserved-logins';
import { closest, reportsForIssue, show } from './workflow-issue-message';
import { compareProblems, fieldPath, formatProblem, type WorkflowProblem } from './workflow-problem';
import { NAME_PATTERN, WorkflowFileSchema, type People, type WorkflowFile } from './workflow-schema';
import { YamlLocator, type SourcePosition } from './yaml-locator';
import { schemaAtPath } from './zod-schema-path';

export type { WorkflowProblem } from './workflow-problem';

export interface LoadWorkflowsOptions {
  /** File names in problems and `source.file` are shown relative to this directory (default: process.cwd()). */
  displayRoot?: string;
}

export interface WorkflowLoadResult {
  /** Present only when there is no problem at all. */
  policy?: Policy;
  /** Every problem in every file, sorted by file, line and column. */
  problems: WorkflowProblem[];
  /** Things that are valid but probably not what the author meant; they do not stop a start. */
  warnings: WorkflowProblem[];
  /** The files read, as shown in problems, in name order. */
  files: string[];
}

/** A name defined in a file, kept before validation so cross-file checks see every file. */
interface Definition {
  kind: 'resource' | 'workflow';
  name: string;
  file: string;
  position: SourcePosition;
}

interface WorkflowReference {
  resource: string;
  workflow: string;
  file: string;
  position: SourcePosition;
}

/** What one file contributed: its parsed content when valid, and what cross-file checks need. */
interface FileResult {
  file: string;
  parsed?: WorkflowFile;
  locator?: YamlLocator;
  problems: WorkflowProblem[];
  definitions: Definition[];
  references: WorkflowReference[];
}

const WORKFLOW_FILE = /\.ya?ml$/i;
const KINDS = { resource: 'resources', workflow: 'workflows' } as const;
/** YAML errors after which the parsed data is not what the author meant, so schema problems would mislead. */
const RECOVERABLE_YAML_ERRORS = new Set(['DUPLICATE_KEY']);

/**
 * Reads every `*.yaml` / `*.yml` in `dir` (not subdirectories, not dotfiles), validates each against
 * the workflow schema and the files against each other, and returns every problem found. The policy
 * is returned only when there are none.
 */
export async function loadWorkflows(dir: string, options: LoadWorkflowsOptions = {}): Promise<WorkflowLoadResult> {
  const absoluteDir = path.resolve(dir);
  const display = displayName(options.displayRoot ?? process.cwd());
  const names = await listWorkflowFiles(absoluteDir, display(absoluteDir));
  const files = names.map((name) => display(path.join(absoluteDir, name)));
  if (names.length === 0) {
    const problem = { file: display(absoluteDir), line: 0, column: 0, message: 'no workflow files (*.yaml, *.yml) in this directory' };
    return { problems: [problem], warnings: [], files };
  }

  const hash = createHash('sha256');
  const results: FileResult[] = [];
  for (const name of names) {
    const absolute = path.join(absoluteDir, name);
    const bytes = await readFile(absolute).catch((err: unknown) => {
      throw new WorkflowsUnreadableError(`cannot read ${display(absolute)}: ${describeFsError(err)}`, { cause: err });
    });
    // Name and length first, so no two different sets of files can feed the hash the same bytes.
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
    results.push(checkFile(display(absolute), bytes));
  }

  const problems = [...results.flatMap((r) => r.problems), ...crossFileProblems(results), ...identityProblems(results), ...reviewProblems(results)].sort(compareProblems);
  const warnings = results.flatMap((r) => [...groupReferenceWarnings(r), ...patternHintWarnings(r)]).sort(compareProblems);
  if (problems.length > 0) return { problems, warnings, files };
  const policy = buildPolicy(results, hash.digest('hex'), files);
  if (warnings.length > 0) policy.warnings = warnings.map(formatProblem);
  return { policy, problems, warnings, files };
}

/** Like `loadWorkflows`, for processes that cannot run without a valid policy. */
export async function loadPolicy(dir: string, options: LoadWorkflowsOptions = {}): Promise<Policy> {
  const { policy, problems } = await loadWorkflows(dir, options);
  if (!policy) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new ConfigError(`${count} in the workflow files`, problems.map(formatProblem));
  }
  return policy;
}

async function listWorkflowFiles(absoluteDir: string, shownAs: string): Promise<string[]> {
  const entries = await readdir(absoluteDir, { withFileTypes: true }).catch((err: unknown) => {
    throw new WorkflowsUnreadableError(`cannot read the workflows directory ${shownAs}: ${describeFsError(err)}`, {
      cause: err,
    });
  });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && WORKFLOW_FILE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkFile(file: string, bytes: Buffer): FileResult {
  const result: FileResult = { file, problems: [], definitions: [], references: [] };
  const at = (position: SourcePosition, message: string, field?: PropertyKey[]): void => {
    result.problems.push({ file, ...position, ...(field?.length ? { field: fieldPath(field) } : {}), message });
  };

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    at({ line: 1, column: 1 }, 'not UTF-8 text');
    return result;
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(doc, lineCounter);
  result.locator = locator;
  for (const error of [...doc.errors, ...doc.warnings]) {
    const problem = yamlProblem(error, locator);
    at(problem.position, problem.message, problem.field);
  }
  if (doc.contents === null) {
    if (doc.errors.length === 0) at({ line: 1, column: 1 }, 'the file is empty: add resources, workflows or admins');
    return result;
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    at({ line: 1, column: 1 }, `cannot read the YAML: ${err instanceof Error ? err.message : String(err)}`);
    return result;
  }
  collectNames(data, file, locator, result);
  if (doc.errors.some((e) => !RECOVERABLE_YAML_ERRORS.has(e.code))) return result;

  const parsed = WorkflowFileSchema.safeParse(data, { reportInput: true });
  if (parsed.success) {
    if (doc.errors.length === 0) result.parsed = parsed.data;
    return result;
  }
  for (const issue of withValuesOfBadlyNamedEntries(parsed.error.issues, data)) {
    for (const report of reportsForIssue(issue, WorkflowFileSchema)) {
      const position = report.at === 'key' ? locator.keyPosition(report.path) : locator.valuePosition(report.path);
      const alias = locator.aliasOnPath(report.path);
      at(position, alias ? `${report.message} (used through the alias at line ${alias.line})` : report.message, report.path);
    }
  }
  return result;
}

/**
 * zod does not validate the value of a record entry whose key is invalid (`Prod DB:`), so those
 * problems would surface only after the rename. Validate such values here, in the same run.
 */
function withValuesOfBadlyNamedEntries(issues: z.core.$ZodIssue[], data: unknown): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    out.push(issue);
    if (issue.code !== 'invalid_key') continue;
    const valueSchema = schemaAtPath(WorkflowFileSchema, issue.path);
    const value = valueAt(data, issue.path);
    if (!valueSchema || value === undefined) continue;
    const inner = z.safeParse(valueSchema, value, { reportInput: true });
    for (const innerIssue of inner.error?.issues ?? [])
      out.push({ ...innerIssue, path: [...issue.path, ...innerIssue.path] });
  }
  return out;
}

function yamlProblem(
  error: YAMLError,
  locator: YamlLocator,
): { position: SourcePosition; message: string; field?: PropertyKey[] } {
  const position = locator.positionAt(error.pos[0]);
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const duplicate = locator.duplicateKeyAt(error.pos[0]);
      if (!duplicate) return { position, message: 'a key appears twice in one mapping' };
      const key = duplicate.path[duplicate.path.length - 1];
      const first = duplicate.first ? ` (first at line ${duplicate.first.line})` : '';
      return { position, field: duplicate.path, message: `duplicate key ${show(key)}${first}: each key may appear once in a mapping` };
    }
    case 'MULTIPLE_DOCS':
      return { position, message: 'a workflow file holds one YAML document: remove the "---" line or split the file' };
    default:
      return { position, message: `YAML ${error.name === 'YAMLWarning' ? 'warning' : 'syntax error'}: ${error.message}` };
  }
}

/** Names and references, read from the raw data so a file with schema problems still takes part in cross-file checks. */
function collectNames(data: unknown, file: string, locator: YamlLocator, result: FileResult): void {
  if (!isPlainObject(data)) return;
  for (const kind of ['resource', 'workflow'] as const) {
    const section = data[KINDS[kind]];
    if (!isPlainObject(section)) continue;
    for (const [name, body] of Object.entries(section)) {
      result.definitions.push({ kind, name, file, position: locator.keyPosition([KINDS[kind], name]) });
      if (kind === 'resource' && isPlainObject(body) && typeof body.workflow === 'string' && NAME_PATTERN.test(body.workflow)) {
        result.references.push({
          resource: name,
          workflow: body.workflow,
          file,
          position: locator.valuePosition(['resources', name, 'workflow']),
        });
      }
    }
  }
}

function crossFileProblems(results: FileResult[]): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const definitions = results.flatMap((r) => r.definitions);

  const byName = new Map<string, Definition[]>();
  for (const d of definitions) {
    const key = `${d.kind}\0${d.name}`;
    byName.set(key, [...(byName.get(key) ?? []), d]);
  }
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    for (const d of same) {
      const elsewhere = same
        .filter((other) => other !== d)
        .map((other) => `${other.file}:${other.position.line}:${other.position.column}`)
        .join(', ');
      problems.push({
        file: d.file,
        ...d.position,
        field: fieldPath([KINDS[d.kind], d.name]),
        message: `${d.kind} "${d.name}" is also defined at ${elsewhere}: names must be unique across all files`,
      });
    }
  }

  const workflowNames = [...new Set(definitions.filter((d) => d.kind === 'workflow').map((d) => d.name))].sort();
  for (const ref of results.flatMap((r) => r.references)) {
    if (workflowNames.includes(ref.workflow)) continue;
    const suggestion = closest(ref.workflow, workflowNames);
    const known = workflowNames.length ? ` (defined: ${workflowNames.join(', ')})` : ' (no file defines any workflow)';
    problems.push({
      file: ref.file,
      ...ref.position,
      field: fieldPath(['resources', ref.resource, 'workflow']),
      message: `no workflow named "${ref.workflow}" in any file${suggestion ? `; did you mean "${suggestion}"?` : known}`,
    });
  }
  return problems;
}

/** A handle that looks like a group id written in lowercase: it matches a group with that handle, never the group with that id. */
const ID_LOOKING_HANDLE = /^s(?=[a-z0-9]*[0-9])[a-z0-9]{6,}$/;

/** Warns about `slack_groups` entries that look like ids but are handles (ids are uppercase and match ids only). */
function groupReferenceWarnings(result: FileResult): WorkflowProblem[] {
  const warnings: WorkflowProblem[] = [];
  const { parsed, locator, file } = result;
  if (!parsed || !locator) return warnings;
  const visit = (value: unknown, path: PropertyKey[]): void => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...path, i]));
    else if (isPlainObject(value)) {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'slack_groups' && Array.isArray(v)) {
          v.forEach((ref, i) => {
            if (typeof ref !== 'string' || !ID_LOOKING_HANDLE.test(ref)) return;
            const at = [...path, key, i];
            warnings.push({
              file,
              ...locator.valuePosition(at),
              field: fieldPath(at),
              message:
                `"${ref}" looks like a user group id, but ids are uppercase (${ref.toUpperCase()}): as written it is a handle, ` +
                `and matches only a group whose handle is ${ref}. Write the id in capitals to mean that group.`,
            });
          });
        } else visit(v, [...path, key]);
      }
    }
  };
  visit(parsed, []);
  return warnings;
}

/**
 * A reason or ticket pattern without a hint: requesters are told only that their text does not
 * match, and are never shown the regular expression itself, so they could not know what to write.
 */
function patternHintWarnings(result: FileResult): WorkflowProblem[] {
  const { parsed, locator, file } = result;
  if (!parsed || !locator) return [];
  const warnings: WorkflowProblem[] = [];
  for (const [name, workflow] of Object.entries(parsed.workflows ?? {})) {
    for (const field of ['reason', 'ticket'] as const) {
      const spec = workflow[field];
      if (spec?.pattern === undefined || spec.hint !== undefined) continue;
      const at = ['workflows', name, field, 'pattern'];
      warnings.push({
        file,
        ...locator.valuePosition(at),
        field: fieldPath(at),
        message: `a ${field} pattern without a hint: requesters are never shown the regular expression, so add a hint that says in words what to write (e.g. "A Jira key such as OPS-1234")`,
      });
    }
  }
  return warnings;
}

/** Two people mapped to one login, or one person to two logins in two files: certificates would be shared or ambiguous. */
function identityProblems(results: FileResult[]): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const byUser = new Map<string, { login: string; where: string }>();
  const byLogin = new Map<string, { user: string; where: string }>();
  for (const { parsed, locator, file } of results) {
    if (!parsed?.identities || !locator) continue;
    for (const [user, login] of Object.entries(parsed.identities)) {
      const position = locator.keyPosition(['identities', user]);
      const where = `${file}:${position.line}:${position.column}`;
      const field = fieldPath(['identities', user]);
      const sameUser = byUser.get(user);
      if (sameUser && sameUser.login !== login)
        problems.push({ file, ...position, field, message: `${user} is also mapped to "${sameUser.login}" at ${sameUser.where}: one person has one login` });
      const sameLogin = byLogin.get(login);
      if (sameLogin && sameLogin.user !== user)
        problems.push({ file, ...position, field, message: `login "${login}" is also given to ${sameLogin.user} at ${sameLogin.where}: two people would share one login` });
      byUser.set(user, { login, where });
      byLogin.set(login, { user, where });
    }
  }
  return problems;
}

/** Review names unique across files, and every resource a review names defined somewhere. */
function reviewProblems(results: FileResult[]): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const resources = new Set(results.flatMap((r) => r.definitions.filter((d) => d.kind === 'resource').map((d) => d.name)));
  const seen = new Map<string, string>();
  for (const { parsed, locator, file } of results) {
    if (!parsed?.reviews || !locator) continue;
    for (const [name, review] of Object.entries(parsed.reviews)) {
      const position = locator.keyPosition(['reviews', name]);
      const other = seen.get(name);
      if (other) problems.push({ file, ...position, field: fieldPath(['reviews', name]), message: `review "${name}" is also defined in ${other}: names must be unique across all files` });
      seen.set(name, `${file}:${position.line}`);
      (review.resources ?? []).forEach((resource, i) => {
        if (resources.has(resource)) return;
        const suggestion = closest(resource, [...resources].sort());
        problems.push({
          file,
          ...locator.valuePosition(['reviews', name, 'resources', i]),
          field: fieldPath(['reviews', name, 'resources', i]),
          message: `no resource named "${resource}" in any file${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        });
      });
    }
  }
  return problems;
}

function buildPolicy(results: FileResult[], hash: string, files: string[]): Policy {
  const resources = new Map<string, Resource>();
  const workflows = new Map<string, Workflow>();
  const reviews = new Map<string, AccessReview>();
  const admins = { everyone: false, users: new Set<string>(), slack_groups: new Set<string>() };
  const identities = new Map<string, string>();
  const allowedEmailDomains = new Set<string>();
  const reservedLogins = new Set<string>(BUILTIN_RESERVED_LOGINS);
  for (const { parsed, locator, file } of results) {
    if (!parsed || !locator) continue;
    const lineOf = (section: string, name: string): number => locator.keyPosition([section, name]).line;
    for (const [name, spec] of Object.entries(parsed.resources ?? {}))
      resources.set(name, { ...spec, name, source: { file, line: lineOf('resources', name) } });
    for (const [name, spec] of Object.entries(parsed.workflows ?? {}))
      workflows.set(name, { ...spec, name, source: { file, line: lineOf('workflows', name) } });
    for (const [name, spec] of Object.entries(parsed.reviews ?? {}))
      reviews.set(name, { ...spec, name, source: { file, line: lineOf('reviews', name) } });
    if (parsed.admins?.everyone) admins.everyone = true;
    for (const user of parsed.admins?.users ?? []) admins.users.add(user);
    for (const group of parsed.admins?.slack_groups ?? []) admins.slack_groups.add(group);
    for (const [user, login] of Object.entries(parsed.identities ?? {})) identities.set(user, login);
    for (const domain of parsed.allowed_email_domains ?? []) allowedEmailDomains.add(domain);
    for (const login of parsed.reserved_logins ?? []) reservedLogins.add(login);
  }
  const mergedAdmins: People = { users: [...admins.users], slack_groups: [...admins.slack_groups] };
  if (admins.everyone) mergedAdmins.everyone = true;
  return {
    resources,
    workflows,
    admins: mergedAdmins,
    identities,
    allowedEmailDomains: [...allowedEmailDomains].sort(),
    reservedLogins,
    hash,
    files,
    reviews,
  };
}

function valueAt(data: unknown, keys: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function displayName(root: string): (absolute: string) => string {
  return (absolute) => {
    const relative = path.relative(root, absolute);
    if (relative === '') return '.';
    return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
  };
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
