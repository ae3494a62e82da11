import { cpus } from 'node:os';
import { benchSshSigning } from '../ca/ssh/ssh-signing-bench';
import { benchX509Signing } from '../ca/x509/x509-signing-bench';
import { benchIssuance } from './issuance-bench';
import { benchSlackPhase, type SlackPhaseResult } from './slack-load-bench';

/**
 * `npm run bench`: prints one JSON document with every figure and its target. Speed targets live
 * here, never in timed tests. Throughput is the median of BENCH_ROUNDS rounds (every round is printed):
 * on a shared 2-core machine single rounds vary by ±25 %. Env: REDIS_URL, BENCH_CERTS (10000 per
 * round), BENCH_ROUNDS (3), BENCH_CONCURRENCY (64), BENCH_LATENCY_RATE (200/s), BENCH_LATENCY_SECONDS (5),
 * BENCH_NODE (a wrapper to run the worker child under, e.g. a script running `node --cpu-prof`).
 * Slack load (BENCH_SLACK=0 skips it): BENCH_SLACK_REQUESTS (1000), BENCH_SLACK_APPROVALS (500),
 * BENCH_SLACK_SPREAD_MS (the burst's length, 1000), BENCH_SLACK_SCALE (Slack's tiers × 50 in the
 * rate-limited phase: at Slack's own rates the bench would take half an hour).
 */
async function main(): Promise<void> {
  const ssh = benchSshSigning(Number(process.env.BENCH_SSH_ITERATIONS ?? 20_000));
  const x509 = benchX509Signing(Number(process.env.BENCH_X509_ITERATIONS ?? 2_000));
  const issuance = await benchIssuance({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    certificates: Number(process.env.BENCH_CERTS ?? 10_000),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
    latencyRate: Number(process.env.BENCH_LATENCY_RATE ?? 200),
    latencySeconds: Number(process.env.BENCH_LATENCY_SECONDS ?? 5),
  });
  const slack = process.env.BENCH_SLACK === '0' ? undefined : await benchSlack();
  const report = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    sshCertificateSigning: { ...ssh, target: 'at least 0.6 of raw Ed25519 crypto.sign', meetsTarget: ssh.ratio >= 0.6 },
    x509CertificateSigning: {
      caKey: x509.caKey,
      nativeCertsPerSecond: Math.round(x509.nativeCertsPerSecond),
      forgeCertsPerSecond: Math.round(x509.forgeCertsPerSecond),
      speedup: Number(x509.speedup.toFixed(1)),
    },
    approvedToIssued: {
      ...issuance,
      target: 'median at least 2600 certificates/s with one worker process (twice vault-benchmark\'s published Vault SSH signing figure)',
      meetsTarget: issuance.certsPerSecond >= 2600,
    },
    ...(slack ? { slackLoad: slack } : {}),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

/**
 * Two phases on the shipped two-approver workflow (production-database.yaml): Slack without limits
 * (click → certificate DM), then Slack answering 429 past its published tiers (the burst of
 * requests, certificates ahead of the update backlog). Each figure sits beside its same-run baseline.
 */
async function benchSlack() {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const requests = Number(process.env.BENCH_SLACK_REQUESTS ?? 1000);
  const approvals = Number(process.env.BENCH_SLACK_APPROVALS ?? 500);
  const spreadMs = Number(process.env.BENCH_SLACK_SPREAD_MS ?? 1000);
  const scale = Number(process.env.BENCH_SLACK_SCALE ?? 50);
  const unlimited = await benchSlackPhase({ url, requests: approvals, approvals, spreadMs, rateScale: null });
  const limited = await benchSlackPhase({ url, requests, approvals, spreadMs, rateScale: scale });
  return { withoutRateLimits: withTargets(unlimited), withRateLimits: withTargets(limited) };
}

function withTargets(r: SlackPhaseResult) {
  const limited = r.slackRateScale !== null;
  return {
    ...r,
    targets: {
      ackP99AtMost200Ms: r.requests.ack.p99Ms <= 200,
      noAckOver3s: r.requests.ack.over3s === 0,
      allPersisted: r.requests.persisted === r.requests.count,
      allRepliesDelivered: r.requests.repliesDelivered === r.requests.count,
      slackCallsPerRequestAtMost5: r.requests.slackCallsPerRequest <= 5,
      slackCallsPerApprovalAtMost6: r.approvals.slackCallsPerApproval.mean <= 6,
      endToEndAtLeastHalfOfApprovedToIssued: r.approvals.ratio >= 0.5,
      ...(limited
        ? { certificatesBeforePendingUpdates: r.approvals.updatesAfterLastCertificate > 0 || r.approvals.lastCertificateBeforeLastUpdate }
        : { clickToCertificateP99AtMost1s: r.approvals.clickToCertificateDm.p99Ms <= 1000 }),
    },
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
