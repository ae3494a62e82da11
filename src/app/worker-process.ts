import { accessReviewService } from '../access-review/access-review-factory';
import { AccessReviewScheduler } from '../access-review/access-review-scheduler';
import { loadCa, type CaMaterial } from '../ca/ca-directory';
import { CaPublisher } from '../ca/ca-publisher';
import { CertificateSigner, x509CaFingerprint } from '../ca/certificate-signer';
import { CaWorker } from '../queue/ca-worker';
import { CertificateJobs } from '../queue/certificate-jobs';
import { DeliveryWorker } from '../queue/delivery-worker';
import { GrantVerifier } from '../queue/grant-verifier';
import { Reconciler } from '../queue/reconciler';
import type { AppContext } from './app-context';
import type { RunningProcess } from './running-process';

const REPUBLISH_EVERY_MS = 6 * 3_600_000;
const REVIEWS_CHECK_EVERY_MS = 10 * 60_000;

export interface WorkerProcess extends RunningProcess {
  jobs: CertificateJobs;
  reconciler: Reconciler;
  /** Periodic access reviews (`reviews:` in the workflow files). */
  accessReviews: AccessReviewScheduler;
  /** True while the BullMQ workers take jobs. */
  running(): boolean;
}

function caSummary(ca: CaMaterial) {
  return {
    ssh: ca.ssh.fingerprint,
    x509: x509CaFingerprint(ca.x509),
    previous: ca.previous.map((p) => ({ ssh: p.ssh.fingerprint, x509: x509CaFingerprint(p.x509), trustUntil: new Date(p.trustUntil).toISOString() })),
  };
}

/**
 * `access-bot worker`: the only process that reads CA private keys. It refuses to start when a
 * key is readable by others, publishes the CA material, then signs, revokes and fires timers.
 */
export async function startWorkerProcess(ctx: AppContext): Promise<WorkerProcess> {
  const { env, logger } = ctx;
  let ca = loadCa(env.CA_DIR);
  const jobs = new CertificateJobs({
    redis: ctx.redis,
    keys: ctx.keys,
    store: ctx.store,
    service: ctx.service,
    keyRegistry: ctx.keyRegistry,
    policy: () => ctx.policy,
    ca: () => ca,
    signer: new CertificateSigner(env.SSH_SESSION_WRAPPER),
    publisher: new CaPublisher(ctx.published),
    published: ctx.published,
    verifier: new GrantVerifier({
      policy: () => ctx.policy,
      directory: ctx.directoryPort,
      oncall: ctx.oncallPort,
      ca: () => ca,
      request: (id) => ctx.store.get(id),
    }),
    audit: ctx.audit,
    logger,
  });
  const reconciler = new Reconciler(ctx.store, ctx.service, ctx.scheduler, () => ctx.policy, logger, Date.now, { metrics: ctx.metrics });
  await jobs.publish();

  const worker = new CaWorker({
    connection: ctx.bullConnection,
    redisPrefix: env.REDIS_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
    jobs,
    service: ctx.service,
    reconciler,
    logger,
    stalledIntervalMs: env.WORKER_STALLED_CHECK,
    expiryWarningMs: env.EXPIRY_WARNING,
    offboarding: ctx.offboarding,
    deliver: (request) => ctx.scheduler.deliverToRequester(request, 'issued'),
  });
  const deliveries = new DeliveryWorker({
    connection: ctx.bullConnection,
    redisPrefix: env.REDIS_PREFIX,
    redis: ctx.redis,
    keys: ctx.keys,
    notifier: ctx.deliveryNotifier ?? ctx.notifierPort,
    requests: ctx.store,
    audit: ctx.audit,
    logger,
  });
  worker.start();
  deliveries.start();
  await Promise.all([worker.waitUntilReady(), deliveries.waitUntilReady()]);
  await ctx.timersQueue.upsertJobScheduler('reconcile', { every: env.RECONCILE_INTERVAL }, { name: 'reconcile' });
  // Only Slack can say an account was deactivated: without it there is nothing to sweep.
  if (env.slack) await ctx.timersQueue.upsertJobScheduler('offboarding-sweep', { every: env.OFFBOARDING_SWEEP_INTERVAL }, { name: 'offboarding-sweep' });
  else await ctx.timersQueue.removeJobScheduler('offboarding-sweep');
  await ctx.certificatesQueue.upsertJobScheduler('republish-ca', { every: REPUBLISH_EVERY_MS }, { name: 'publish' });
  await ctx.auditConfigLoaded('worker', { ca: caSummary(ca) });
  await reconciler.run();
  const accessReviews = new AccessReviewScheduler(accessReviewService(ctx), logger);
  accessReviews.start(REVIEWS_CHECK_EVERY_MS);
  logger.info({ ca: caSummary(ca), concurrency: env.WORKER_CONCURRENCY }, 'CA worker started');

  return {
    jobs,
    reconciler,
    accessReviews,
    running: () => worker.running(),
    stop: async () => {
      await accessReviews.stop();
      await Promise.all([worker.close(), deliveries.close()]);
    },
    reload: async () => {
      await ctx.reloadPolicy('worker');
      try {
        ca = loadCa(env.CA_DIR);
        await jobs.publish();
        await ctx.auditConfigLoaded('worker', { ca: caSummary(ca) });
      } catch (err) {
        logger.error({ err }, 'CA reload failed; keeping the loaded CA');
      }
    },
  };
}
