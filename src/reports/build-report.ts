import { accessReviewReport, type AccessReviewReport } from './access-review-report';
import { AuditAnalysis } from './audit-analysis';
import type { ReportPeriod } from './report-period';
import type { ReportSource } from './report-source';
import { soc2Report, type Soc2Report } from './soc2-report';

/** Verifies the source's chain, then reads it once more to analyse it for the period. */
export async function analyse(source: ReportSource, period: ReportPeriod) {
  const chain = await source.verify();
  const analysis = new AuditAnalysis(period);
  for await (const event of source.read()) analysis.add(event);
  return { chain, analysis };
}

export async function buildAccessReview(source: ReportSource, period: ReportPeriod, now = Date.now()): Promise<AccessReviewReport> {
  const { chain, analysis } = await analyse(source, period);
  return accessReviewReport(analysis, period, chain, now);
}

export async function buildSoc2(source: ReportSource, period: ReportPeriod, now = Date.now()): Promise<Soc2Report> {
  const { chain, analysis } = await analyse(source, period);
  return soc2Report(analysis, period, chain, now);
}
