import { cpus } from 'node:os';
import { benchSshSigning } from '../ca/ssh/ssh-signing-bench';
import { benchX509Signing } from '../ca/x509/x509-signing-bench';
import { benchIssuance } from './issuance-bench';

/**
 * `npm run bench`: prints one JSON document with every figure and its target. Speed targets live
 * here, never in timed tests. Throughput is the median of BENCH_ROUNDS rounds (every round is printed):
 * on a shared 2-core machine single rounds vary by ±25 %. Env: REDIS_URL, BENCH_CERTS (10000 per
 * round), BENCH_ROUNDS (3), BENCH_CONCURRENCY (64), BENCH_LATENCY_RATE (200/s), BENCH_LATENCY_SECONDS (5),
 * BENCH_NODE (a wrapper to run the worker child under, e.g. a script running `node --cpu-prof`).
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
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
