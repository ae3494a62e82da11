import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event';
import { PostgresAuditArchive } from '../../src/audit/postgres/postgres-audit-archive';
import type { AccessReviewReport } from '../../src/reports/access-review-report';
import { csvField } from '../../src/reports/report-csv';
import type { Soc2Report } from '../../src/reports/soc2-report';
import { runCli } from '../helpers/cli';
import { testDatabase } from '../helpers/postgres';
import { testRedis } from '../helpers/redis';
import { appendChained, FIXTURE_FILE, fixtureEvents, fixtureQuarter, fixtureQuarterDates } from './fixture-log';

const quarter = fixtureQuarter();
const { since, until } = fixtureQuarterDates();
const tmp = mkdtempSync(join(tmpdir(), 'reports-'));

function writeLog(name: string, events: AuditEvent[]): string {
  const file = join(tmp, name);
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return file;
}

async function accessReview(source: string, format = 'json', env: NodeJS.ProcessEnv = {}) {
  return runCli(['report', 'access-review', '--since', since, '--until', until, '--format', format, '--source', source], env);
}

describe('report access-review over the fixture log', () => {
  let report: AccessReviewReport;
  beforeAll(async () => {
    const r = await accessReview(FIXTURE_FILE);
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout) as AccessReviewReport;
  });

  it('is headed by the chain verification', () => {
    expect(report.chain).toMatchObject({ ok: true, count: 131, head: { seq: 131 } });
  });

  it('lists every grant with its approvals, channel, break-glass review and early revocation', () => {
    expect(report.summary).toEqual({ grants: 10, people: 3, resources: 7, breakGlass: 4, refusals: 25, anomalies: 9, events: 131 });
    const routes = report.grants.map((g) => g.route).sort();
    expect(routes).toEqual(['admin', 'auto', 'break_glass', 'break_glass', 'incident', 'incident', 'workflow', 'workflow', 'workflow', 'workflow']);
    // Approved by moving its Jira issue: Bob's review, through the Jira channel.
    expect(report.grants.find((g) => g.resource === 'change-ssh')).toMatchObject({ approvals: [{ by: 'U0BOB', stage: 0, via: 'jira' }], channels: ['jira'] });
    const twoStage = report.grants.find((g) => g.resource === 'prod-db')!;
    expect(twoStage.approvals.map((a) => [a.by, a.stage, a.via])).toEqual([
      ['U0BOB', 0, 'slack'],
      ['U0CAROL', 1, 'slack'],
    ]);
    expect(twoStage.principals).toEqual(['accessbot-test']);
    const revoked = report.grants.find((g) => g.resource === 'prod-ssh' && g.route === 'workflow')!;
    expect(revoked.revokedEarly).toMatchObject({ by: 'U0ALICE', via: 'slack' });
    const glass = report.grants.filter((g) => g.breakGlass);
    expect(glass.map((g) => [g.requester, g.breakGlass!.incident, g.breakGlass!.reviewedBy ?? 'open'])).toEqual([
      ['U0ALICE', 'PINC001', 'U0CAROL'],
      ['U0MALLORY', 'PINC001', 'open'],
      ['U0ALICE', 'Q100INC', 'U0CAROL'],
      ['U0ALICE', 'Q101INC', 'U0CAROL'],
    ]);
    expect(report.grants.find((g) => g.route === 'admin')).toMatchObject({ requester: 'U0DAVE', channels: ['cli'] });
  });

  it('groups refused attempts by kind', () => {
    const byKind = Object.fromEntries(report.refusals.map((g) => [`${g.type} ${g.code}`, g.count]));
    expect(byKind).toEqual({
      'request.refused NOT_ELIGIBLE': 8,
      'audit.refusals_suppressed RATE_LIMITED': 2,
      'breakglass.incident_refused NOT_ELIGIBLE': 2,
      'review.refused NOT_APPROVER': 2,
      'access_review.answer_refused NOT_REVIEWER': 1,
      'breakglass.review_refused SELF_APPROVAL': 1,
      'cert.refused it is marked admin-issued without a valid attestation from the CA directory': 1,
      'cert.refused the approval predates the request': 1,
      'key.refused SSH_KEY_MALFORMED': 1,
      'request.cancel_refused NOT_PENDING': 1,
      'request.refused BREAK_GLASS_NOT_ALLOWED': 1,
      'request.refused REASON_INVALID': 1,
      'request.revoke_refused NOT_ALLOWED': 1,
      'review.refused SELF_APPROVAL': 1,
      'webhook.signature_refused signature mismatch': 1,
    });
    // Eve's burst: six written one by one, two counted past the rate limit and reported as one event.
    expect(report.refusals.find((g) => g.code === 'NOT_ELIGIBLE')!.people).toEqual(['U0CAROL', 'U0DAVE', 'U0EVE']);
  });

  it('totals access per person and resource', () => {
    expect(report.totals.map((t) => [t.person, t.resource, t.grants])).toEqual([
      ['U0ALICE', 'batch', 1],
      ['U0ALICE', 'change-ssh', 1],
      ['U0ALICE', 'core-router', 1],
      ['U0ALICE', 'incident-shell', 2],
      ['U0ALICE', 'prod-db', 1],
      ['U0ALICE', 'prod-ssh', 1],
      ['U0DAVE', 'prod-ssh', 1],
      ['U0MALLORY', 'core-router', 1],
      ['U0MALLORY', 'sandbox', 1],
    ]);
    expect(report.totals.find((t) => t.resource === 'core-router')!.hours).toBe(0.5);
  });

  it('finds the anomalies the fixture planted', () => {
    const kinds = report.anomalies.map((a) => a.kind).sort();
    expect(kinds).toEqual([
      'break_glass_unreviewed',
      'decision_by_non_approver',
      'decision_by_non_approver',
      'decision_by_non_approver',
      'grant_outlived_window',
      'self_approval_attempt',
      'self_approval_attempt',
      'signing_refused',
      'signing_refused',
    ]);
    expect(report.anomalies.find((a) => a.kind === 'grant_outlived_window')!.detail).toMatch(/^ended (9|10|11) min after its window$/);
  });

  it('flags a certificate with no approval before it (the worker refuses to sign one today; an older log, or one from elsewhere, may hold one)', async () => {
    const events = fixtureEvents();
    const last = events.at(-1)!;
    const forged = appendChained(events, {
      type: 'cert.issued',
      at: new Date(Date.parse(last.at) + 1000).toISOString(),
      actor: { id: 'system', via: 'system' },
      requestId: 'ar-nopproval1',
      data: { kind: 'ssh', serial: '999', principals: ['root'], validAfter: Date.parse(last.at), validBefore: Date.parse(last.at) + 3_600_000 },
    });
    const report = JSON.parse((await accessReview(writeLog('no-approval.jsonl', forged))).stdout) as AccessReviewReport;
    expect(report.anomalies.filter((a) => a.kind === 'certificate_without_approval')).toEqual([
      expect.objectContaining({ requestId: 'ar-nopproval1', detail: 'certificate 999 for a request whose approval is not in this log' }),
    ]);
  });

  it('prints CSV sections a spreadsheet opens, with formulas neutralised', async () => {
    const r = await accessReview(FIXTURE_FILE, 'csv');
    const blocks = r.stdout.split('\r\n\r\n');
    expect(blocks.map((b) => b.split('\r\n')[0])).toEqual(['chain', 'grants', 'refusals', 'access per person and resource', 'anomalies', 'other events']);
    expect(blocks[1]!.trim().split('\r\n')).toHaveLength(2 + 10);
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('-12.5')).toBe('-12.5');
  });

  it('lists event kinds it does not know under other events, and still verifies the chain', async () => {
    const events = appendChained(fixtureEvents(), { type: 'vendor.ticket_linked', at: new Date(Date.parse(fixtureEvents().at(-1)!.at) + 1000).toISOString(), actor: { id: 'system', via: 'system' }, data: { ticket: 'CHG-1' } });
    const r = await accessReview(writeLog('unknown.jsonl', events));
    const report = JSON.parse(r.stdout) as AccessReviewReport;
    expect(report.chain.ok).toBe(true);
    expect(report.other).toEqual([{ type: 'vendor.ticket_linked', count: 1, seqs: [132] }]);
  });

  it('a tampered log: exit 1, the break heads the report and is an anomaly', async () => {
    const events = fixtureEvents().map((e) => (e.seq === 30 ? { ...e, data: { ...e.data, reason: 'edited' } } : e));
    const r = await accessReview(writeLog('tampered.jsonl', events));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as AccessReviewReport;
    expect(report.chain).toMatchObject({ ok: false, firstBad: { seq: 30 } });
    expect(report.anomalies[0]).toMatchObject({ kind: 'chain_broken', seq: 30 });
  });

  it('bad periods are usage errors', async () => {
    expect((await runCli(['report', 'soc2', '--period', '2026-Q5', '--source', FIXTURE_FILE])).code).toBe(2);
    expect((await runCli(['report', 'access-review', '--since', until, '--until', since, '--source', FIXTURE_FILE])).stderr).toMatch(/--since must be before --until/);
  });
});

describe('report soc2 over the fixture log', () => {
  let report: Soc2Report;
  beforeAll(async () => {
    const r = await runCli(['report', 'soc2', '--period', quarter, '--format', 'json', '--source', FIXTURE_FILE]);
    report = JSON.parse(r.stdout) as Soc2Report;
  });

  it('has one section per control row, and answers all but physical access', () => {
    expect(report.controls.map((c) => `${c.id} ${c.status}`)).toEqual([
      'CC6.1 answered',
      'CC6.2 answered',
      'CC6.3 answered',
      'CC6.4 not_answered',
      'CC6.5 answered',
      'CC6.6 answered',
      'CC6.7 partial',
      'CC7.2 answered',
      'CC7.3 answered',
      'CC7.4 answered',
      'CC7.5 answered',
      'CC8.1 answered',
    ]);
    const physical = report.controls.find((c) => c.id === 'CC6.4')!;
    expect(physical.needs).toMatch(/SOC 2 report/);
  });

  it('counts from the log with sampled request ids, the same sample every time', async () => {
    const evidence = (id: string) => Object.fromEntries(report.controls.find((c) => c.id === id)!.evidence.map((e) => [e.label, e.value]));
    expect(evidence('CC6.1')).toMatchObject({ 'certificates issued': 9, 'public keys registered': 4, 'public keys refused (weak, malformed, private keys pasted)': 1, 'CA created or rotated': 2 });
    expect(evidence('CC6.2')).toMatchObject({ 'requests made': 16, 'approved by the workflow': 4, 'auto-approved by a rule': 1, 'break-glass': 2, 'granted by a PagerDuty incident': 2, 'issued by an admin': 1, denied: 2, 'timed out': 1, cancelled: 2, 'access reviews started': 2, 'review answers: keep': 1, 'review answers: remove': 1 });
    expect(evidence('CC6.3')).toMatchObject({ 'self-approval attempts refused': 2, 'decisions by non-approvers refused': 3, 'access review removals requested': 1, 'requested removals closed by an admin': 1 });
    expect(evidence('CC7.3')).toMatchObject({ 'break-glass uses': 4, 'uses tied to an incident': 4, 'break-glass attempts refused (not on call, no incident)': 1 });
    expect(evidence('CC7.2')).toMatchObject({ 'refusals beyond a person’s rate limit (counted, not written one by one)': 2, 'detector: the worker refused to sign a grant': 2 });
    expect(evidence('CC7.4')).toMatchObject({ 'break-glass reviews closed': 3, 'break-glass reviews still open': 1 });
    expect(evidence('CC8.1')).toMatchObject({ 'configuration loads': 3, 'CA rotations': 1 });
    const cc61 = report.controls.find((c) => c.id === 'CC6.1')!;
    expect(cc61.samples).toHaveLength(5);
    const again = JSON.parse((await runCli(['report', 'soc2', '--period', quarter, '--format', 'json', '--source', FIXTURE_FILE])).stdout) as Soc2Report;
    expect(again.controls.map((c) => c.samples)).toEqual(report.controls.map((c) => c.samples));
  });

  it('CC8.1 lists every configuration load with its hash and process; CC6.2/CC6.3 list the review answers', () => {
    const cc81 = report.controls.find((c) => c.id === 'CC8.1')!;
    expect(cc81.details!.rows.map((r) => r[1])).toEqual(['worker', 'bot', 'bot']);
    expect(cc81.details!.rows.every((r) => /^[0-9a-f]{64}$/.test(String(r[2])))).toBe(true);
    expect(report.controls.find((c) => c.id === 'CC6.2')!.details!.rows.map((r) => [r[2], r[3], r[4], r[5]])).toEqual([
      ['U0ALICE', 'prod-ssh', 'keep', 'U0CAROL'],
      ['U0MALLORY', 'core-router', 'remove', 'U0CAROL'],
    ]);
    expect(report.controls.find((c) => c.id === 'CC6.3')!.details!.rows).toHaveLength(1);
  });
});

describe('report sources', () => {
  it('Redis and the PostgreSQL archive holding the same events give the same report as the file', async () => {
    const events = fixtureEvents();
    const t = testRedis('report');
    const db = await testDatabase('report');
    try {
      for (const e of events)
        await t.redis.xadd(t.keys.auditStream, '*', 'seq', e.seq, 'prev', e.prev, 'hash', e.hash, 'body', JSON.stringify({ type: e.type, at: e.at, actor: e.actor, ...(e.requestId ? { requestId: e.requestId } : {}), data: e.data }));
      await t.redis.hset(t.keys.auditHead, 'seq', events.at(-1)!.seq, 'hash', events.at(-1)!.hash);
      const archive = new PostgresAuditArchive(db.url, { max: 1 });
      await archive.migrate();
      await archive.insert(events);
      await archive.close();
      const env = { REDIS_PREFIX: t.prefix, AUDIT_DATABASE_URL: db.url };
      const strip = (json: string) => {
        const r = JSON.parse(json) as AccessReviewReport;
        return { ...r, generatedAt: 0, chain: { ok: r.chain.ok, count: r.chain.count, head: r.chain.head } };
      };
      const fromFile = strip((await accessReview(FIXTURE_FILE)).stdout);
      const fromRedis = await accessReview('redis', 'json', env);
      expect(JSON.parse(fromRedis.stdout).chain.source).toBe('Redis');
      expect(strip(fromRedis.stdout)).toEqual(fromFile);
      // Without --source, the archive is used when AUDIT_DATABASE_URL is set.
      const fromArchive = await runCli(['report', 'access-review', '--since', since, '--until', until, '--format', 'json'], env);
      expect(JSON.parse(fromArchive.stdout).chain).toMatchObject({ source: 'PostgreSQL archive', redis: 'matches Redis at event 131 (Redis holds 1–131)' });
      expect(strip(fromArchive.stdout)).toEqual(fromFile);
    } finally {
      await t.cleanup();
      await db.drop();
    }
  });
});
