import { z } from 'zod';
import { objectKeys, schemaAtPath } from './zod-schema-path';

type Schema = z.core.$ZodType;

/** One problem derived from a zod issue, before it is given a place in the file. */
export interface IssueReport {
  path: PropertyKey[];
  /** `key`: point at the key itself (unknown or badly named keys); `value`: at the value. */
  at: 'key' | 'value';
  message: string;
}

/**
 * Turns a zod issue into messages for a person editing YAML. The schema's own messages are kept
 * (they are written for people); zod's generic ones ("Too small: expected number to be >=1") are
 * reworded with what was expected and what the file holds. Issues must come from a parse with
 * `reportInput: true`.
 */
export function reportsForIssue(issue: z.core.$ZodIssue, root: Schema): IssueReport[] {
  const path = [...issue.path];
  const input: unknown = issue.input;
  const custom = isSchemaMessage(issue.message) ? issue.message : undefined;
  const value = (message: string): IssueReport[] => [{ path, at: 'value', message }];

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeys(schemaAtPath(root, path)) ?? [];
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key', message: unknownKeyMessage(key, allowed) }));
    }
    case 'invalid_key': {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      return [{ path, at: 'key', message: `${show(path[path.length - 1])} is not a valid name: ${reasons}` }];
    }
    case 'invalid_type':
      if (input === undefined) return value(`missing required key "${String(path[path.length - 1] ?? '')}"`);
      if (custom) return value(withInput(custom, input));
      return value(`expected ${expectedPhrase(issue.expected, path, root, input)}, got ${show(input)}`);
    case 'too_small':
    case 'too_big':
      return value(custom ?? sizeMessage(issue, input));
    case 'invalid_value':
      return value(
        issue.values.length === 1
          ? `expected ${show(issue.values[0])}, got ${show(input)}`
          : `expected one of ${issue.values.map((v) => show(v)).join(', ')}; got ${show(input)}`,
      );
    case 'invalid_format':
      if (custom) return value(withInput(custom, input));
      return value(`expected ${issue.format === 'url' ? 'a URL like https://example.com' : `a valid ${issue.format}`}, got ${show(input)}`);
    case 'invalid_union':
      return value(custom ? withInput(custom, input) : `does not match any allowed form, got ${show(input)}`);
    default:
      return value(custom ? withInput(custom, input) : issue.message);
  }
}

/** zod's built-in messages start like this; the schema's own never do. */
function isSchemaMessage(message: string): boolean {
  return !/^(Invalid |Too (small|big)|Unrecognized key)/.test(message);
}

/** "a duration like 15m" describes what belongs here: say so, and show what is there instead. */
function withInput(message: string, input: unknown): string {
  if (/^an? /.test(message) && isPrimitive(input)) return `expected ${message}, got ${show(input)}`;
  return message;
}

function expectedPhrase(expected: string, path: PropertyKey[], root: Schema, input: unknown): string {
  if (path.length === 0) return `a mapping with the keys ${(objectKeys(root) ?? []).join(', ')}`;
  switch (expected) {
    case 'string': {
      // A number or boolean where text belongs: if the text form would still be wrong (`max: 30`
      // for a duration), the schema's own message says what the field wants.
      const schema = schemaAtPath(root, path);
      if (schema && isPrimitive(input)) {
        const retry = z.safeParse(schema, String(input));
        const hint = retry.error?.issues.find((i) => isSchemaMessage(i.message) && /^an? /.test(i.message));
        if (hint) return hint.message;
        if (retry.success) return `text (write it in quotes: "${String(input)}")`;
      }
      return 'text';
    }
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping (key: value)';
    default:
      return expected;
  }
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, input: unknown): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  const exclusive = issue.inclusive === false;
  switch (issue.origin) {
    case 'array': {
      const count = Array.isArray(input) ? ` (has ${input.length})` : '';
      if (small) return limit <= 1 ? 'needs at least one item' : `needs at least ${limit} items${count}`;
      return `allows at most ${limit} items${count}`;
    }
    case 'string': {
      const length = typeof input === 'string' ? ` (has ${input.length})` : '';
      if (small) return limit <= 1 ? 'must not be empty' : `needs at least ${limit} characters${length}`;
      return `allows at most ${limit} characters${length}`;
    }
    default: {
      const bound = small ? (exclusive ? 'greater than' : 'at least') : exclusive ? 'less than' : 'at most';
      return `must be ${bound} ${limit}, got ${typeof input === 'number' ? input : show(input)}`;
    }
  }
}

function unknownKeyMessage(key: string, allowed: string[]): string {
  const suggestion = closest(key, allowed);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
  const list = allowed.length ? ` (allowed here: ${allowed.join(', ')})` : '';
  return `unknown key "${key}"${hint}${list}`;
}

/** The allowed word a typo most likely meant, if any is close enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const threshold = Math.max(1, Math.floor(word.length / 3));
  return best && best.distance <= threshold ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** How a value from the file is named in a message. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean' || typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}
