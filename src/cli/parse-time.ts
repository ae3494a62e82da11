import { parseDuration } from '../config/duration';
import { UsageError } from './usage-error';

/** `2026-11-01`, `2026-11-01T09:00:00Z`, or a duration meaning "that long ago" (`24h`, `7d`). */
export function parseTimeOption(name: string, value: string, now: number): number {
  const ago = parseDuration(value);
  if (ago !== undefined) return now - ago;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--${name} "${value}" is neither a date (2026-11-01T09:00:00Z) nor a duration (24h, 7d).`);
  return t;
}
