import { parseDuration } from '../../config/duration';
import { REQUEST_ID_PATTERN } from '../../requests/request-id';
import { code } from '../blocks/format';

/** What a `/access …` line asks for, after parsing. */
export type AccessCommand =
  /** `/access` alone, or `/access <resource>` with nothing else: the request modal. */
  | { kind: 'open_modal'; resource?: string }
  | { kind: 'help'; problem?: string }
  | { kind: 'list' }
  | { kind: 'pending' }
  | { kind: 'cancel'; id: string }
  | { kind: 'revoke'; id: string }
  | { kind: 'extend'; id: string; durationMs: number; reason?: string }
  | { kind: 'key_add'; text: string }
  | { kind: 'key_list' }
  | { kind: 'key_remove'; fingerprint: string }
  | { kind: 'request'; resource: string; durationMs?: number; reason: string; breakGlass: boolean }
  /** A known subcommand used wrongly: `problem` says what, `usage` how it is used. */
  | { kind: 'usage'; problem: string; usage: string };

export const USAGE = {
  request: '/access <resource> [duration] <reason>',
  breakglass: '/access breakglass <resource> [duration] <reason>',
  cancel: '/access cancel <request id>',
  revoke: '/access revoke <request id>',
  extend: '/access extend <request id> <duration> [reason]',
  keyAdd: '/access key add <public key>',
  keyRemove: '/access key remove <fingerprint>',
} as const;

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

/** `[duration] <reason…>`: the first word is a duration only when it parses as one. */
function durationAndReason(rest: string): { durationMs?: number; reason: string } {
  const [first, after] = splitFirst(rest);
  const ms = first === '' ? undefined : parseDuration(first);
  return ms === undefined ? { reason: rest.trim() } : { durationMs: ms, reason: after.trim() };
}

/**
 * Parses the text after `/access`. Subcommand words win over resource names; any other first word
 * is taken as a resource when `isResource` knows it, and otherwise the answer is help.
 */
export function parseAccessCommand(raw: string, isResource: (name: string) => boolean): AccessCommand {
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
      return { kind: 'list' };
    case 'pending':
      return { kind: 'pending' };
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
      const [durationWord, reason] = splitFirst(afterId);
      const durationMs = durationWord === '' ? undefined : parseDuration(durationWord);
      if (durationMs === undefined)
        return {
          kind: 'usage',
          problem: durationWord === '' ? 'For how long? Give a duration like 30m, 2h or 1d.' : `${code(durationWord.slice(0, 40))} is not a duration like 30m, 2h or 1d.`,
          usage: USAGE.extend,
        };
      return { kind: 'extend', id: parsed.id, durationMs, ...(reason.trim() ? { reason: reason.trim() } : {}) };
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
      return { kind: 'request', resource: resource.toLowerCase(), breakGlass: true, ...durationAndReason(afterResource) };
    }
    default:
      break;
  }

  const resource = word.toLowerCase();
  if (!isResource(resource)) {
    return { kind: 'help', problem: `There is no command or resource called ${code(word.slice(0, 64))}.` };
  }
  if (rest.trim() === '') return { kind: 'open_modal', resource };
  return { kind: 'request', resource, breakGlass: false, ...durationAndReason(rest) };
}
