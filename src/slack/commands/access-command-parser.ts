import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import { code } from '../blocks/format';
import { didYouMean } from './did-you-mean';
import { durationProblemText, readSpokenDuration, type SpokenDuration } from './spoken-duration';

/** What a `/access …` line asks for, after parsing. */
export type AccessCommand =
  /** `/access` alone, or `/access <resource>` with nothing else: the request modal. */
  | { kind: 'open_modal'; resource?: string }
  | { kind: 'help'; problem?: string }
  /** A first word that is neither a command nor a resource; `suggestion` is the whole line as probably meant. */
  | { kind: 'unknown'; word: string; suggestion?: string }
  /** `page` counts from 1. */
  | { kind: 'list'; page: number }
  | { kind: 'pending'; page: number }
  | { kind: 'cancel'; id: string }
  | { kind: 'revoke'; id: string }
  | { kind: 'extend'; id: string; durationMs: number; reason?: string }
  | { kind: 'key_add'; text: string }
  | { kind: 'key_list' }
  | { kind: 'key_remove'; fingerprint: string }
  | { kind: 'request'; resource: string; durationMs?: number; reason: string; ticket?: string; breakGlass: boolean }
  /** A known subcommand used wrongly: `problem` says what, `usage` how it is used. */
  | { kind: 'usage'; problem: string; usage: string };

/** What the parser needs to know about the policy. */
export interface CommandPolicy {
  isResource(name: string): boolean;
  /** Every resource name, for "did you mean". */
  resourceNames(): readonly string[];
  /** The ticket pattern of the resource's workflow, when it has one. */
  ticketPattern?(resource: string): RegExp | undefined;
  /** The resource's maximum duration (`4h`), named when a duration is wrong. */
  maxDuration?(resource: string): string | undefined;
}

/** The words of the command line people can mistype. */
export const SUBCOMMANDS = ['help', 'list', 'pending', 'cancel', 'revoke', 'extend', 'key', 'breakglass'] as const;

const DURATION_HINT = '30m, 2h, 1h30m or 1d';

export const USAGE = {
  request: '/access <resource> [duration] <reason>',
  breakglass: '/access breakglass <resource> [duration] <reason>',
  cancel: '/access cancel <request id>',
  revoke: '/access revoke <request id>',
  extend: '/access extend <request id> <duration> [reason]',
  keyAdd: '/access key add <public key>',
  keyRemove: '/access key remove <fingerprint>',
  list: '/access list [page]',
  pending: '/access pending [page]',
} as const;

/** A page number argument: absent is page 1. */
function pageArg(word: string | undefined, usage: string): { page: number } | { problem: string; usage: string } {
  if (word === undefined) return { page: 1 };
  if (/^[1-9][0-9]{0,4}$/.test(word)) return { page: Number(word) };
  return { problem: `${code(word.slice(0, 40))} is not a page number; pages are 1, 2, 3…`, usage };
}

/** Slash command text arrives with &, < and > HTML-escaped, whatever the command's should_escape says. */
export function unescapeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function requestId(word: string | undefined, usage: string): { id: string } | { problem: string; usage: string } {
  if (word === undefined) return { problem: 'Which request? Give its id (see `/access list`).', usage };
  const id = word.toLowerCase();
  if (!REQUEST_ID_PATTERN.test(id)) return { problem: `${code(word.slice(0, 40))} is not a request id; ids look like \`ar-7k2m9q4x1c\` (see \`/access list\`).`, usage };
  return { id };
}

function splitFirst(text: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text);
  return match ? [match[1] ?? '', match[2] ?? ''] : ['', ''];
}

/** Drops the first `n` words of `text` and the space after them. */
function dropWords(text: string, n: number): string {
  let rest = text.trim();
  for (let i = 0; i < n; i++) rest = splitFirst(rest)[1];
  return rest.trim();
}

/** Punctuation people put around a ticket reference: "(INC-42)," is INC-42. */
function bare(word: string): string {
  return word.replace(/^[("'[{<]+/, '').replace(/[)"'\]}>.,;:!?]+$/, '');
}

/**
 * The ticket in a fast-path reason: the first word after the duration when it matches the
 * workflow's ticket pattern, else the first word anywhere that does. The reason keeps it: it is
 * part of what the person wrote, and reason patterns often ask for it.
 */
function ticketIn(reason: string, pattern: RegExp | undefined): string | undefined {
  if (!pattern) return undefined;
  for (const word of reason.split(/\s+/).filter(Boolean)) {
    const candidate = bare(word);
    if (candidate !== '' && pattern.test(candidate)) return candidate;
  }
  return undefined;
}

type DurationAndReason = { durationMs?: number; reason: string; ticket?: string } | { problem: string };

/**
 * `[duration] <reason…>`. A first word that looks like a duration must be one; a ticket reference
 * in first place is never read as a duration, even when the workflow's tickets are all digits.
 */
function durationAndReason(resource: string, rest: string, policy: CommandPolicy): DurationAndReason {
  const pattern = policy.ticketPattern?.(resource);
  const words = rest.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  const spoken: SpokenDuration = first !== undefined && pattern?.test(bare(first)) ? { kind: 'none' } : readSpokenDuration(words);
  if (spoken.kind === 'invalid') return { problem: durationProblemText(spoken, policy.maxDuration?.(resource)) };
  const reason = spoken.kind === 'duration' ? dropWords(rest, spoken.words) : rest.trim();
  const ticket = ticketIn(reason, pattern);
  return {
    reason,
    ...(spoken.kind === 'duration' ? { durationMs: spoken.ms } : {}),
    ...(ticket !== undefined ? { ticket } : {}),
  };
}

/**
 * Parses the text after `/access`. Subcommand words win over resource names; any other first word
 * is taken as a resource when `isResource` knows it, and otherwise the answer is help.
 */
export function parseAccessCommand(raw: string, policy: CommandPolicy): AccessCommand {
  const text = unescapeSlackText(raw).trim();
  if (text === '') return { kind: 'open_modal' };
  const [word, rest] = splitFirst(text);
  const sub = word.toLowerCase();
  const args = rest.split(/\s+/).filter(Boolean);

  switch (sub) {
    case 'help':
    case '-h':
    case '--help':
      return { kind: 'help' };
    case 'list':
    case 'ls':
    case 'pending': {
      const kind = sub === 'pending' ? 'pending' : 'list';
      const usage = kind === 'pending' ? USAGE.pending : USAGE.list;
      const page = pageArg(args[0], usage);
      if ('problem' in page) return { kind: 'usage', ...page };
      if (args.length > 1) return { kind: 'usage', problem: `\`${kind}\` takes at most a page number.`, usage };
      return { kind, page: page.page };
    }
    case 'cancel':
    case 'revoke': {
      const usage = sub === 'cancel' ? USAGE.cancel : USAGE.revoke;
      const parsed = requestId(args[0], usage);
      if ('problem' in parsed) return { kind: 'usage', ...parsed };
      return { kind: sub, id: parsed.id };
    }
    case 'extend': {
      const parsed = requestId(args[0], USAGE.extend);
      if ('problem' in parsed) return { kind: 'usage', ...parsed };
      const [, afterId] = splitFirst(rest);
      const words = afterId.trim().split(/\s+/).filter(Boolean);
      const spoken = readSpokenDuration(words);
      if (spoken.kind === 'invalid') return { kind: 'usage', problem: durationProblemText(spoken), usage: USAGE.extend };
      if (spoken.kind === 'none')
        return {
          kind: 'usage',
          problem: words.length === 0 ? `For how long? Give a duration like ${DURATION_HINT}.` : `${code((words[0] ?? '').slice(0, 40))} is not a duration like ${DURATION_HINT}.`,
          usage: USAGE.extend,
        };
      const reason = dropWords(afterId, spoken.words);
      return { kind: 'extend', id: parsed.id, durationMs: spoken.ms, ...(reason ? { reason } : {}) };
    }
    case 'key':
    case 'keys': {
      const [action, keyRest] = splitFirst(rest);
      switch (action.toLowerCase()) {
        case '':
        case 'list':
        case 'ls':
          return { kind: 'key_list' };
        case 'add':
          if (keyRest.trim() === '') return { kind: 'usage', problem: 'Paste your public key after `key add` (the `.pub` file, never the private key).', usage: USAGE.keyAdd };
          return { kind: 'key_add', text: keyRest.trim() };
        case 'remove':
        case 'rm':
        case 'delete': {
          const fingerprint = keyRest.trim().split(/\s+/)[0];
          if (!fingerprint) return { kind: 'usage', problem: 'Which key? Give its fingerprint (see `/access key list`).', usage: USAGE.keyRemove };
          return { kind: 'key_remove', fingerprint };
        }
        default:
          return { kind: 'usage', problem: `${code(`key ${action.slice(0, 40)}`)} is not a key command.`, usage: `${USAGE.keyAdd} | /access key list | ${USAGE.keyRemove}` };
      }
    }
    case 'breakglass':
    case 'break-glass': {
      const [resource, afterResource] = splitFirst(rest);
      if (resource === '') return { kind: 'usage', problem: 'Which resource?', usage: USAGE.breakglass };
      const name = resource.toLowerCase();
      if (!policy.isResource(name)) {
        const suggestion = didYouMean(name, policy.resourceNames());
        return {
          kind: 'usage',
          problem: `There is no resource called ${code(resource.slice(0, 64))}.${suggestion ? ` Did you mean ${code(`/access ${sub} ${suggestion} ${afterResource}`.trim())}?` : ''}`,
          usage: USAGE.breakglass,
        };
      }
      const parts = durationAndReason(name, afterResource, policy);
      if ('problem' in parts) return { kind: 'usage', problem: parts.problem, usage: USAGE.breakglass };
      return { kind: 'request', resource: name, breakGlass: true, ...parts };
    }
    default:
      break;
  }

  const resource = word.toLowerCase();
  if (!policy.isResource(resource)) {
    const suggestion = didYouMean(resource, [...SUBCOMMANDS, ...policy.resourceNames()]);
    return {
      kind: 'unknown',
      word: word.slice(0, 64),
      ...(suggestion !== undefined ? { suggestion: `/access ${suggestion}${rest.trim() ? ` ${rest.trim()}` : ''}` } : {}),
    };
  }
  if (rest.trim() === '') return { kind: 'open_modal', resource };
  const parts = durationAndReason(resource, rest, policy);
  if ('problem' in parts) return { kind: 'usage', problem: parts.problem, usage: USAGE.request };
  return { kind: 'request', resource, breakGlass: false, ...parts };
}
