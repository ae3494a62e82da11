import { ReportPeriodError } from './errors/report-period-error';

export interface ReportPeriod {
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, exclusive. */
  until: number;
  label: string;
}

/** `2026-Q3` → 2026-07-01T00:00Z up to 2026-10-01T00:00Z; also `2026` and `2026-08` (UTC calendar periods). */
export function parsePeriod(text: string): ReportPeriod {
  const q = /^(\d{4})-Q([1-4])$/i.exec(text.trim());
  if (q) {
    const year = Number(q[1]);
    const quarter = Number(q[2]);
    return { since: Date.UTC(year, (quarter - 1) * 3, 1), until: Date.UTC(year, quarter * 3, 1), label: `${year}-Q${quarter}` };
  }
  const m = /^(\d{4})-(\d{2})$/.exec(text.trim());
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12) {
    const year = Number(m[1]);
    const month = Number(m[2]) - 1;
    return { since: Date.UTC(year, month, 1), until: Date.UTC(year, month + 1, 1), label: text.trim() };
  }
  const y = /^(\d{4})$/.exec(text.trim());
  if (y) return { since: Date.UTC(Number(y[1]), 0, 1), until: Date.UTC(Number(y[1]) + 1, 0, 1), label: text.trim() };
  throw new ReportPeriodError(`"${text}" is not a period like 2026-Q3, 2026-08 or 2026.`);
}

export function periodBetween(since: number, until: number): ReportPeriod {
  if (!(since < until)) throw new ReportPeriodError('--since must be before --until.');
  const show = (ms: number) => new Date(ms).toISOString().replace(/T00:00:00\.000Z$/, '').replace(/:00\.000Z$/, 'Z');
  return { since, until, label: `${show(since)} to ${show(until)}` };
}

export const inPeriod = (p: ReportPeriod, at: number | undefined): boolean => at !== undefined && at >= p.since && at < p.until;
