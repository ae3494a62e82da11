/**
 * Durations as people write them in workflow files and Slack: `90s`, `15m`, `4h`, `2d`, `1h30m`.
 * Internally every duration is a whole number of milliseconds.
 */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const DURATION_RE = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export const DURATION_PATTERN = '^(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$';

/** Returns milliseconds, or undefined when `text` is not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  const m = DURATION_RE.exec(trimmed);
  if (!m || trimmed === '') return undefined;
  const [, d, h, min, s] = m;
  const ms =
    Number(d ?? 0) * UNIT_MS.d + Number(h ?? 0) * UNIT_MS.h + Number(min ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** `5400000` → `1h30m`. Sub-second remainders are dropped. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return '0s';
  let rest = Math.floor(ms / 1000) * 1000;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
