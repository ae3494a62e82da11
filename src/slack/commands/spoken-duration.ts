import { parseDuration } from '../../config/duration';

/**
 * Durations as people type them after `/access <resource>`: the compact forms of the workflow files
 * (`30m`, `2h`, `1h30m`, `1d`), decimals (`1.5h`), units spelled out (`90 minutes`, `2 hours`,
 * `1 day`, `45min`, `2hrs`) and `an hour` / `a day`. A first word that looks like an attempt at a
 * duration and does not parse is a mistake to report, never a word of the reason: `/access app 90
 * minuets fix` must not become the default duration with "90 minuets fix" as the reason.
 */

export const DURATION_FORMS = '`30m`, `2h`, `1h30m`, `1d`, `90 minutes` or `1.5h`';

const UNIT_WORDS: Record<string, number> = {
  s: 1_000,
  sec: 1_000,
  secs: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Words that say "for a while" without a number: asked for, but never granted as such. */
const OPEN_ENDED = new Set(['forever', 'permanent', 'permanently', 'indefinitely', 'indefinite', 'unlimited', 'always', 'infinite', 'infinity', 'eternity']);
const UNIT_ONLY = new Set([...Object.keys(UNIT_WORDS).filter((w) => w.length > 1), 'week', 'weeks', 'wk', 'w', 'month', 'months', 'year', 'years']);

export type SpokenDuration =
  /** `words` durations words were used (1 or 2): the reason starts after them. */
  | { kind: 'duration'; ms: number; words: number }
  /** The first word(s) tried to say a duration and failed: `problem` says why. */
  | { kind: 'invalid'; text: string; problem: 'zero' | 'negative' | 'open_ended' | 'unreadable' }
  /** The first word is not about time: it starts the reason. */
  | { kind: 'none' };

const NUMBER = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;
const NUMBER_WITH_UNIT = /^([+-]?(?:\d+(?:\.\d+)?|\.\d+))([a-z]+)$/;

function fromNumber(value: string, unit: string): number | undefined {
  const size = UNIT_WORDS[unit];
  const n = Number(value);
  if (size === undefined || !Number.isFinite(n)) return undefined;
  return Math.round(n * size);
}

function judged(text: string, ms: number, words: number): SpokenDuration {
  if (ms < 0 || text.startsWith('-')) return { kind: 'invalid', text, problem: 'negative' };
  if (ms === 0) return { kind: 'invalid', text, problem: 'zero' };
  if (!Number.isSafeInteger(ms)) return { kind: 'invalid', text, problem: 'unreadable' };
  return { kind: 'duration', ms, words };
}

/** Whether a word is probably meant as a duration: it has a digit, or it is a unit or a word for "no end". */
export function looksLikeDuration(word: string): boolean {
  const w = word.toLowerCase();
  return /^[+-]?[.\d]/.test(w) || OPEN_ENDED.has(w) || UNIT_ONLY.has(w);
}

/** Reads a duration from the first one or two words of `words`. */
export function readSpokenDuration(words: readonly string[]): SpokenDuration {
  const first = words[0]?.toLowerCase();
  if (first === undefined || first === '') return { kind: 'none' };
  const second = words[1]?.toLowerCase();

  // "90 minutes", "1.5 hours", "an hour", "a day"
  if (second !== undefined && UNIT_WORDS[second] !== undefined && second.length > 1) {
    if (NUMBER.test(first)) {
      const ms = fromNumber(first, second);
      if (ms !== undefined) return judged(`${words[0]} ${words[1]}`, ms, 2);
    }
    if (first === 'a' || first === 'an') return judged(`${words[0]} ${words[1]}`, UNIT_WORDS[second] ?? 0, 2);
  }
  // The workflow files' form: 30m, 2h, 1h30m, 1d, 90s (and 0m, which is zero)
  if (/^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/.test(first)) {
    const ms = parseDuration(first);
    return ms === undefined ? { kind: 'invalid', text: words[0] ?? first, problem: 'zero' } : judged(first, ms, 1);
  }
  // "1.5h", "45min", "2hrs", "-1h"
  const unit = NUMBER_WITH_UNIT.exec(first);
  if (unit) {
    const ms = fromNumber(unit[1] ?? '', unit[2] ?? '');
    if (ms !== undefined) return judged(first, ms, 1);
  }
  if (OPEN_ENDED.has(first)) return { kind: 'invalid', text: words[0] ?? first, problem: 'open_ended' };
  if (looksLikeDuration(first)) {
    const text = second !== undefined && NUMBER.test(first) ? `${words[0]} ${words[1]}` : (words[0] ?? first);
    return { kind: 'invalid', text, problem: NUMBER.test(first) && Number(first) === 0 ? 'zero' : 'unreadable' };
  }
  return { kind: 'none' };
}

/** What to tell someone whose duration did not parse; `maxMs` names the resource's limit when known. */
export function durationProblemText(d: Extract<SpokenDuration, { kind: 'invalid' }>, max?: string): string {
  const shown = `\`${d.text.replace(/`/g, "'").slice(0, 40)}\``;
  const limit = max !== undefined ? ` (at most ${max} here)` : '';
  switch (d.problem) {
    case 'zero':
      return `${shown} is no time at all: give a duration greater than zero, like ${DURATION_FORMS}${limit}.`;
    case 'negative':
      return `${shown} is negative: give a duration greater than zero, like ${DURATION_FORMS}${limit}.`;
    case 'open_ended':
      return `Access is never open-ended: give a duration like ${DURATION_FORMS}${limit}, and extend it later if you need to.`;
    case 'unreadable':
      return (
        `${shown} is not a duration I can read. Write it like ${DURATION_FORMS}${limit}, then the reason. ` +
        'To start a reason with a number, give the duration first.'
      );
  }
}
