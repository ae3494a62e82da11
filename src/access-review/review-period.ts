import type { ReportPeriod } from '../reports/report-period';

export type Cadence = 'weekly' | 'monthly' | 'quarterly' | 'yearly';

const DAY = 86_400_000;

/** The last calendar period (UTC) of this cadence that has ended by `now`: what a review covers. */
export function lastCompletePeriod(cadence: Cadence, now: number): ReportPeriod {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (cadence) {
    case 'yearly':
      return { since: Date.UTC(y - 1, 0, 1), until: Date.UTC(y, 0, 1), label: String(y - 1) };
    case 'quarterly': {
      const q = Math.floor(m / 3); // the current quarter, 0-based
      const since = Date.UTC(y, (q - 1) * 3, 1);
      const start = new Date(since);
      return { since, until: Date.UTC(y, q * 3, 1), label: `${start.getUTCFullYear()}-Q${Math.floor(start.getUTCMonth() / 3) + 1}` };
    }
    case 'monthly': {
      const since = Date.UTC(y, m - 1, 1);
      const start = new Date(since);
      return { since, until: Date.UTC(y, m, 1), label: `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}` };
    }
    case 'weekly': {
      const today = Date.UTC(y, m, d.getUTCDate());
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      const until = today - sinceMonday * DAY;
      const since = until - 7 * DAY;
      return { since, until, label: `week-of-${new Date(since).toISOString().slice(0, 10)}` };
    }
  }
}
