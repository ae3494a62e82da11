import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppContext } from '../app/app-context';
import { initCa } from '../ca/ca-directory';
import { sshPublicKeyFromKeyObject } from '../ca/ssh/ssh-public-key';
import { loadEnv } from '../config/env';
import { silentLogger } from '../log/logger';
import { StaticDirectory } from '../requests/static-directory';
import { BenchSlackApi, type BenchSlackUser } from './bench-slack-api';
import { SignedSlackRequests } from './signed-slack-requests';
import { cleanUpBench, freePort, percentile, perSecond, procMemoryMb, stopChild, waitFor } from './bench-support';

/** The shipped two-approver workflow (a backend lead, then security) and the identities it names. */
const SHIPPED = join(__dirname, '..', '..', 'workflows');
const WORKFLOW_FILES = ['production-database.yaml', 'identities.yaml'];
const SIGNING_SECRET = 'bench-signing-secret-0f3a9c2e';
const LEAD = 'ULEAD0001';
const SECURITY = 'USEC00001';
const CISO = 'U03JZ7P1LMA';
const SECURITY_GROUP = 'S04T8KQ1N2P';
const COMMAND = 'prod-db 1h INC-4242 rerun failed billing migration 0042';

export interface Percentiles {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SlackPhaseResult {
  /** Slack's tiers × this factor, enforced by the fake with 429 + Retry-After (and paced to by the bot); null: no limits. */
  slackRateScale: number | null;
  requests: {
    count: number;
    ack: Percentiles & { over3s: number };
    /** Same-run baseline: GET /healthz on the same bot during the burst. */
    baselineHealthz: Percentiles;
    persisted: number;
    repliesDelivered: number;
    approvalMessagesPosted: number;
    /** From the first command to the last reply delivered. */
    allRepliedMs: number;
    slackCallsPerRequest: number;
    callsByMethod: Record<string, number>;
  };
  approvals: {
    count: number;
    clickToCertificateDm: Percentiles;
    /** Same-run baseline: approval committed → certificate stored (the worker's own path). */
    baselineApprovedToIssued: Percentiles;
    endToEndCertificatesPerSecond: number;
    approvedToIssuedPerSecond: number;
    ratio: number;
    /** chat.update calls still to come when the last certificate DM arrived (a backlog certificates did not wait behind). */
    updatesAfterLastCertificate: number;
    lastCertificateBeforeLastUpdate: boolean;
    slackCallsPerApproval: { stage1: number; stage1ByMethod: Record<string, number>; final: number; mean: number; callsByMethod: Record<string, number> };
  };
  rateLimited: Record<string, number>;
  peakRssMb: { bot: number; worker: number; baselineIdleBot: number; baselineIdleWorker: number };
  seconds: number;
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => Math.round(percentile(sorted, p));
  return { samples: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: Math.round(sorted[sorted.length - 1] ?? 0) };
}

/** Until Slack has seen no call for `quietMs`: the bot's and worker's backlogs are drained. */
async function quiet(fake: BenchSlackApi, quietMs: number, timeoutMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(
    () => {
      const now = fake.totalCalls() + [...fake.rateLimited.values()].reduce((a, b) => a + b, 0);
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    timeoutMs,
    'Slack traffic settling',
  );
}

function delta(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * One phase: a bot (`access-bot serve`) and a worker (`access-bot worker`) as child processes on
 * a fresh Redis prefix, Slack played by BenchSlackApi. A burst of `requests` signed `/access`
 * commands (spread over `spreadMs`), then the backend lead approves `approvals` of them, then
 * security approves the same ones at once: the last click issues the certificate.
 */
export async function benchSlackPhase(options: {
  url: string;
  requests: number;
  approvals: number;
  spreadMs: number;
  /** null: Slack answers without limits (the bot paces to 1000× the tiers, i.e. not at all). */
  rateScale: number | null;
  timeoutMs?: number;
  /** The built CLI the children run (default: dist/cli.js next to this file's folder). */
  cli?: string;
}): Promise<SlackPhaseResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 300_000;
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-slack-bench-'));
  mkdirSync(join(dir, 'workflows'));
  for (const file of WORKFLOW_FILES) copyFileSync(join(SHIPPED, file), join(dir, 'workflows', file));
  initCa(join(dir, 'ca'));
  const prefix = `bench-slack-${randomBytes(4).toString('hex')}`;
  const requesters = Array.from({ length: options.requests }, (_, i) => `UDEV${String(i).padStart(5, '0')}`);
  const users: BenchSlackUser[] = [
    ...requesters.map((id, i) => ({ id, email: `dev${i}@example.com`, groups: ['backend-engineers'] })),
    { id: LEAD, email: 'lead@example.com', groups: ['backend-leads'] },
    { id: SECURITY, email: 'sec@example.com', groups: [SECURITY_GROUP] },
    { id: CISO, email: 'ciso@example.com', groups: [] },
  ];
  const fake = new BenchSlackApi(users, [
    { id: 'S0BENCHBE', handle: 'backend-engineers' },
    { id: 'S0BENCHBL', handle: 'backend-leads' },
    { id: SECURITY_GROUP, handle: 'security-team' },
  ]);
  const apiUrl = await fake.start();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: options.url,
    REDIS_PREFIX: prefix,
    WORKFLOWS_DIR: join(dir, 'workflows'),
    CA_DIR: join(dir, 'ca'),
    LOG_LEVEL: 'error',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: apiUrl,
    SLACK_RATE_SCALE: String(options.rateScale ?? 1000),
    HOST: '127.0.0.1',
    PORT: String(port),
    // The worker's own health listener: any free port, never another worker's 3001.
    WORKER_PORT: '0',
  };
  const ctx = await AppContext.create(loadEnv({ ...env, SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '' }), silentLogger(), { directory: new StaticDirectory([]) });
  let bot: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  try {
    const { publicKey } = generateKeyPairSync('ed25519');
    const keyLine = sshPublicKeyFromKeyObject(publicKey, 'bench');
    for (let i = 0; i < requesters.length; i += 100)
      await Promise.all(requesters.slice(i, i + 100).map((id) => ctx.keyService.register(id, keyLine, 'cli')));

    const cli = options.cli ?? join(__dirname, '..', 'cli.js');
    const spawnCli = (role: string) => spawn(process.env.BENCH_NODE ?? process.execPath, [cli, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    worker = spawnCli('worker');
    bot = spawnCli('serve');
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false)) && (await ctx.published.read()) !== undefined, 60_000, 'bot and worker start');
    await quiet(fake, 500, 30_000);
    const idle = { bot: procMemoryMb(bot.pid, 'VmRSS'), worker: procMemoryMb(worker.pid, 'VmRSS') };
    fake.rateScale = options.rateScale ?? undefined;
    const slack = new SignedSlackRequests(`${base}/slack/events`, SIGNING_SECRET);
    // Warm-up (JIT, first connections): not measured.
    for (let i = 0; i < 20; i++) await slack.command(CISO, 'help', fake.responseUrl(`warm-${i}`));
    await waitFor(() => fake.responses.size >= 20, 30_000, 'warm-up replies');
    fake.responses.clear();

    // ---- the burst of requests -------------------------------------------------------------------
    await quiet(fake, 500, 30_000);
    const before = new Map(fake.calls);
    const burstStart = Date.now();
    const acks: number[] = [];
    const healthz: number[] = [];
    let failedAcks = 0;
    await Promise.all(
      requesters.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, (i * options.spreadMs) / requesters.length));
        if (i % 10 === 0) {
          const t = performance.now();
          void fetch(`${base}/healthz`).then(async (r) => {
            await r.arrayBuffer();
            healthz.push(performance.now() - t);
          });
        }
        const res = await slack.command(id, COMMAND, fake.responseUrl(`req-${i}`));
        if (res.status !== 200) failedAcks += 1;
        acks.push(res.ms);
      }),
    );
    if (failedAcks > 0) throw new Error(`benchmark: ${failedAcks} commands were not acked with 200`);
    await waitFor(() => fake.responses.size >= requesters.length, timeoutMs, 'every /access reply');
    const allRepliedMs = Math.max(...fake.responses.values()) - burstStart;
    await waitFor(() => fake.channelCopies.size >= requesters.length, timeoutMs, 'every approval message');
    await quiet(fake, 1500, timeoutMs);
    const requestCalls = delta(fake.calls, before);
    const ids = new Map<string, string>();
    for (const id of requesters) {
      const [latest] = await ctx.store.listByRequester(id, 1);
      if (latest) ids.set(id, latest.id);
    }
    const persisted = (await ctx.store.getMany([...ids.values()])).filter((r) => r.state === 'pending').length;

    // ---- stage 1: the lead approves ---------------------------------------------------------------
    const chosen = requesters.slice(0, options.approvals).map((u) => ids.get(u) ?? '');
    const copyOf = (id: string) => fake.channelCopies.get(id) ?? { channel: 'C05PRDACC01', ts: '0' };
    const beforeStage1 = new Map(fake.calls);
    await Promise.all(chosen.map((id, i) => slack.click(LEAD, 'access.approve', id, copyOf(id), fake.responseUrl(`s1-${i}`))));
    await waitFor(async () => (await ctx.store.getMany(chosen)).every((r) => r.stage === 1), timeoutMs, 'stage 1 approvals');
    await quiet(fake, 1500, timeoutMs);
    const stage1Calls = delta(fake.calls, beforeStage1);

    // ---- the final approvals, all at once ---------------------------------------------------------
    const beforeFinal = new Map(fake.calls);
    const updatesBefore = fake.updateTimes.length;
    const clickedAt = new Map<string, number>();
    await Promise.all(
      chosen.map(async (id, i) => {
        clickedAt.set(id, Date.now());
        await slack.click(SECURITY, 'access.approve', id, copyOf(id), fake.responseUrl(`s2-${i}`));
      }),
    );
    await waitFor(() => chosen.every((id) => fake.certificateAt.has(id)), timeoutMs, 'every certificate DM');
    await quiet(fake, 1500, timeoutMs);
    const finalCalls = delta(fake.calls, beforeFinal);
    const records = await ctx.store.getMany(chosen);
    const certTimes = chosen.map((id) => fake.certificateAt.get(id) ?? 0);
    const lastCert = Math.max(...certTimes);
    const firstClick = Math.min(...clickedAt.values());
    const updates = fake.updateTimes.slice(updatesBefore);
    const issuedTimes = records.map((r) => r.certificate?.issuedAt ?? 0);
    const endToEnd = Math.round((chosen.length / Math.max(1, lastCert - firstClick)) * 1000);
    const approvedToIssued = perSecond(issuedTimes);
    const peak = { bot: procMemoryMb(bot.pid, 'VmHWM'), worker: procMemoryMb(worker.pid, 'VmHWM') };

    return {
      slackRateScale: options.rateScale,
      requests: {
        count: requesters.length,
        ack: { ...percentiles(acks), over3s: acks.filter((ms) => ms > 3000).length },
        baselineHealthz: percentiles(healthz),
        persisted,
        repliesDelivered: fake.responses.size,
        approvalMessagesPosted: fake.channelCopies.size,
        allRepliedMs,
        slackCallsPerRequest: Number((sum(requestCalls) / requesters.length).toFixed(2)),
        callsByMethod: requestCalls,
      },
      approvals: {
        count: chosen.length,
        clickToCertificateDm: percentiles(chosen.map((id) => (fake.certificateAt.get(id) ?? 0) - (clickedAt.get(id) ?? 0))),
        baselineApprovedToIssued: percentiles(records.map((r) => (r.certificate?.issuedAt ?? 0) - (r.approvedAt ?? 0))),
        endToEndCertificatesPerSecond: endToEnd,
        approvedToIssuedPerSecond: approvedToIssued,
        ratio: Number((endToEnd / Math.max(1, approvedToIssued)).toFixed(2)),
        updatesAfterLastCertificate: updates.filter((t) => t > lastCert).length,
        lastCertificateBeforeLastUpdate: updates.length > 0 && lastCert <= Math.max(...updates),
        slackCallsPerApproval: {
          stage1: Number((sum(stage1Calls) / chosen.length).toFixed(2)),
          stage1ByMethod: stage1Calls,
          final: Number((sum(finalCalls) / chosen.length).toFixed(2)),
          mean: Number(((sum(stage1Calls) + sum(finalCalls)) / (2 * chosen.length)).toFixed(2)),
          callsByMethod: finalCalls,
        },
      },
      rateLimited: Object.fromEntries(fake.rateLimited),
      peakRssMb: { ...peak, baselineIdleBot: idle.bot, baselineIdleWorker: idle.worker },
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await Promise.all([stopChild(bot), stopChild(worker)]);
    await fake.stop();
    await cleanUpBench(ctx, prefix, dir);
  }
}
