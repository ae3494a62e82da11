import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyChain } from '../../src/audit/audit-chain';
import type { AuditEvent } from '../../src/audit/audit-event';
import { AUDIT_EVENT_TYPES } from '../../src/engine/audit-event-types';
import { accessReviewReport } from '../../src/reports/access-review-report';
import { AuditAnalysis } from '../../src/reports/audit-analysis';
import { parsePeriod } from '../../src/reports/report-period';
import { soc2Report } from '../../src/reports/soc2-report';
import { generateAuditFixture } from './fixture/generate-audit-fixture';

import { FIXTURE_FILE } from './fixture-log';

function shape(events: AuditEvent[], quarter: string) {
  const period = parsePeriod(quarter);
  const analysis = new AuditAnalysis(period);
  for (const e of events) analysis.add(e);
  const chain = { ok: true, source: 'test', count: events.length };
  const review = accessReviewReport(analysis, period, chain, 0);
  const soc2 = soc2Report(analysis, period, chain, 0);
  return {
    summary: { ...review.summary, events: undefined },
    refusals: review.refusals.map((g) => `${g.type} ${g.code} ${g.count}`),
    anomalies: review.anomalies.map((a) => a.kind),
    controls: soc2.controls.map((c) => `${c.id} ${c.status}`),
  };
}

it('the generator drives every audit event kind through the product, and the committed fixture is what it produces', async () => {
  const { events, quarter } = await generateAuditFixture();
  const kinds = new Set(events.map((e) => e.type));
  const missing = Object.values(AUDIT_EVENT_TYPES).filter((t) => !kinds.has(t));
  // A new event kind: add a step that causes it to test/reports/fixture/generate-audit-fixture.ts.
  expect(missing).toEqual([]);
  expect(await verifyChain(events)).toMatchObject({ ok: true, count: events.length });
  if (process.env.UPDATE_AUDIT_FIXTURE === '1') writeFileSync(FIXTURE_FILE, events.map((e) => `${JSON.stringify(e)}\n`).join(''));

  const committed = readFileSync(FIXTURE_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
  const committedQuarter = parsePeriod(`${committed[0]!.at.slice(0, 4)}-Q${Math.ceil(Number(committed[0]!.at.slice(5, 7)) / 3)}`);
  // The same scenario gives the same report, whenever it is run.
  expect(shape(committed, committedQuarter.label)).toEqual(shape(events, quarter));
}, 120_000);
