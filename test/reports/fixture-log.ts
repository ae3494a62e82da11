import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyHash, bodyOf, chainHash } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-event';

/** The committed fixture log (test/reports/fixture/generate-audit-fixture.ts made it). */
export const FIXTURE_FILE = join(__dirname, '..', 'fixtures', 'audit-log.jsonl');

export function fixtureEvents(): AuditEvent[] {
  return readFileSync(FIXTURE_FILE, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** The quarter the fixture's events fall in, e.g. 2026-Q4. */
export function fixtureQuarter(): string {
  const first = fixtureEvents()[0]!.at;
  return `${first.slice(0, 4)}-Q${Math.ceil(Number(first.slice(5, 7)) / 3)}`;
}

/** Appends a correctly chained event (e.g. of a kind this version does not know). */
export function appendChained(events: AuditEvent[], body: Omit<AuditEvent, 'seq' | 'prev' | 'hash'>): AuditEvent[] {
  const last = events[events.length - 1]!;
  const seq = last.seq + 1;
  const event = { ...body, seq, prev: last.hash, hash: '' } as AuditEvent;
  event.hash = chainHash(last.hash, bodyHash(bodyOf(event)), seq);
  return [...events, event];
}

/** The fixture quarter as --since/--until dates. */
export function fixtureQuarterDates(): { since: string; until: string } {
  const quarter = fixtureQuarter();
  const year = Number(quarter.slice(0, 4));
  const q = Number(quarter.slice(6));
  const date = (y: number, m: number) => `${y}-${String(m).padStart(2, '0')}-01`;
  return { since: date(year, (q - 1) * 3 + 1), until: q === 4 ? date(year + 1, 1) : date(year, q * 3 + 1) };
}
