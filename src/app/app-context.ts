import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ReviewPoster } from '../access-review/review-poster';
import { AUDIT_EVENT_TYPES } from '../engine/audit-event-types';
import { RedisAuditLog } from '../audit/redis-audit-log';
import { PublishedCaStore } from '../ca/published-ca-store';
import type { Env } from '../config/env';
import type { Policy } from '../config/policy';
import { loadPolicy } from '../config/workflow-loader';
import { KeyService } from '../keys/key-service';
import type { Logger } from '../log/logger';
import { AuditSinkMetrics } from '../metrics/audit-sink-metrics';
import { ExternalCallMetrics } from '../metrics/external-call-metrics';
import { MetricsRegistry } from '../metrics/metrics-registry';
import { QueueMetrics } from '../metrics/queue-metrics';
import { RequestMetrics } from '../metrics/request-metrics';
import type { SlackRateGate } from '../slack/slack-rate-gate';
import { BullmqScheduler } from '../queue/bullmq-scheduler';
import { bullPrefix, CERTIFICATES_QUEUE, DELIVERIES_QUEUE, TIMERS_QUEUE } from '../queue/queue-names';
import { EffectRunner } from '../requests/effect-runner';
import { LogNotifier, NoOnCall } from '../requests/null-adapters';
import type { Directory, Notifier, OnCall } from '../requests/ports';
import { OffboardingService } from '../requests/offboarding-service';
import { RequestService } from '../requests/request-service';
import { StaticDirectory } from '../requests/static-directory';
import { RedisKeyRegistry } from '../store/redis-key-registry';
import { RedisKeys } from '../store/redis-keys';
import { RedisRateLimiter } from '../store/redis-rate-limiter';
import { RedisRequestStore } from '../store/redis-request-store';
import { createRedis } from './redis-connection';

/** Adapters a caller may supply instead of the defaults (Slack, PagerDuty, or test doubles of outside services). */
export interface Integrations {
  directory?: Directory;
  notifier?: Notifier;
  oncall?: OnCall;
}

/**
 * The composition root: one place that wires configuration, Redis, the store, the audit log,
 * BullMQ and the integrations into the request service. Bot and worker processes both start here.
 */
export class AppContext {
  readonly redis: Redis;
  readonly bullConnection: Redis;
  readonly keys: RedisKeys;
  readonly store: RedisRequestStore;
  readonly audit: RedisAuditLog;
  readonly keyRegistry: RedisKeyRegistry;
  readonly keyService: KeyService;
  readonly published: PublishedCaStore;
  readonly certificatesQueue: Queue;
  readonly timersQueue: Queue;
  /** The delivery lane: certificate DMs (and the approval DM they may replace), worked by its own worker and Slack client. */
  readonly deliveriesQueue: Queue;
  readonly scheduler: BullmqScheduler;
  readonly effects: EffectRunner;
  readonly service: RequestService;
  /** People who left: their grants, requests and votes removed (Slack user_change and the sweep). */
  readonly offboarding: OffboardingService;
  directory: Directory;
  notifier: Notifier;
  oncall: OnCall;
  /** Always the current `directory` and `oncall`, for whoever is built before an integration swaps them in. */
  readonly directoryPort: Directory;
  readonly oncallPort: OnCall;
  /** One line on the audit archive for /readyz, set when AUDIT_DATABASE_URL is on. */
  archiveStatus?: () => Promise<string>;
  /** A link to a request's approval message in Slack (its channel post), set when Slack is on: the Jira issue links it. */
  slackMessageLink?: (requestId: string) => Promise<string | undefined>;
  /** Set by the Jira integration: workflows approving in Jira are then asked there, not by Slack DM. */
  jiraEnabled = false;
  /** Where periodic access reviews are sent (Slack, when on). */
  reviewPoster?: ReviewPoster;
  readonly notifierPort: Notifier;
  /** This process's Prometheus metrics (`GET /metrics` on the bot's and the worker's HTTP servers). */
  readonly metrics = new MetricsRegistry();
  /** Calls to Slack, PagerDuty and Jira: clients record each attempt here. */
  readonly externalCalls = new ExternalCallMetrics(this.metrics);
  readonly requestMetrics: RequestMetrics;
  /**
   * The notifier of the delivery lane: Slack's is built on its own WebClient (its own queue, first
   * in line at the rate gate), so certificate DMs never wait behind message updates. Defaults to `notifier`.
   */
  deliveryNotifier?: Notifier;
  /** Paces Slack calls to Slack's rate tiers and counts them (set when Slack is on). */
  slackGate?: SlackRateGate;
  private currentPolicy: Policy;

  private constructor(
    readonly env: Env,
    readonly logger: Logger,
    policy: Policy,
    integrations: Integrations,
  ) {
    // Integrations can be swapped after construction (Slack needs the store and the service), so
    // the service reaches them through these forwarding adapters.
    const ctx = this;
    this.currentPolicy = policy;
    const tls = env.redisTls ? { tls: env.redisTls } : {};
    this.redis = createRedis(env.REDIS_URL, { name: 'access-bot', ...tls });
    this.bullConnection = createRedis(env.REDIS_URL, { forBlocking: true, name: 'access-bot-queue', ...tls });
    this.keys = new RedisKeys(env.REDIS_PREFIX);
    this.store = new RedisRequestStore(this.redis, this.keys);
    this.audit = new RedisAuditLog(this.redis, this.keys);
    this.keyRegistry = new RedisKeyRegistry(this.redis, this.keys);
    this.keyService = new KeyService(this.keyRegistry, this.audit);
    this.published = new PublishedCaStore(this.redis, this.keys);
    const prefix = bullPrefix(env.REDIS_PREFIX);
    const defaultJobOptions = { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } };
    this.certificatesQueue = new Queue(CERTIFICATES_QUEUE, { connection: this.bullConnection, prefix, defaultJobOptions });
    this.timersQueue = new Queue(TIMERS_QUEUE, { connection: this.bullConnection, prefix, defaultJobOptions });
    this.deliveriesQueue = new Queue(DELIVERIES_QUEUE, { connection: this.bullConnection, prefix, defaultJobOptions });
    // Without a listener BullMQ prints connection errors to the console (unstructured) while Redis
    // is away; ioredis reconnects on its own, so they are warnings in our log.
    for (const queue of [this.certificatesQueue, this.timersQueue, this.deliveriesQueue])
      queue.on('error', (err) => logger.warn({ err: err.message, queue: queue.name }, 'queue connection error (reconnecting)'));
    this.scheduler = new BullmqScheduler(this.certificatesQueue, this.timersQueue, this.deliveriesQueue, Date.now, {
      attempts: env.DELIVERY_ATTEMPTS,
      backoffMs: env.DELIVERY_BACKOFF,
    });
    this.requestMetrics = new RequestMetrics(this.metrics, (state) => this.store.countByState(state));
    new QueueMetrics(this.metrics, () => [this.certificatesQueue, this.timersQueue, this.deliveriesQueue]);
    new AuditSinkMetrics(this.metrics, this.redis, this.keys);
    this.directory = integrations.directory ?? new StaticDirectory();
    this.notifier = integrations.notifier ?? new LogNotifier(logger);
    this.oncall = integrations.oncall ?? new NoOnCall();
    const notifier: Notifier = {
      approvers: (...a) => this.notifier.approvers(...a),
      updateApprovalMessages: (...a) => this.notifier.updateApprovalMessages(...a),
      requester: (...a) => this.notifier.requester(...a),
      breakGlass: (...a) => this.notifier.breakGlass(...a),
      breakGlassReview: (...a) => this.notifier.breakGlassReview(...a),
      direct: (...a) => this.notifier.direct(...a),
    };
    this.notifierPort = notifier;
    this.directoryPort = {
      actor: (id) => this.directory.actor(id),
      resolveApprovers: (a) => this.directory.resolveApprovers(a),
      forget: (id) => this.directory.forget?.(id),
    };
    this.oncallPort = {
      get enabled() {
        return ctx.oncall.enabled;
      },
      oncallFor: (a, s) => this.oncall.oncallFor(a, s),
      activeIncidents: (s) => this.oncall.activeIncidents(s),
      oncallEmails: (p, l) => this.oncall.oncallEmails(p, l),
      incident: (id) => this.oncall.incident(id),
      context: (s) => this.oncall.context(s),
      postNote: (id, text) => this.oncall.postNote(id, text),
    };
    this.effects = new EffectRunner(this.scheduler, notifier, this.audit, logger, Date.now, this.oncallPort);
    this.service = new RequestService({
      store: this.store,
      audit: this.audit,
      rateLimiter: new RedisRateLimiter(this.redis, this.keys),
      limits: { requests: env.RATE_LIMIT_REQUESTS, refusals: env.RATE_LIMIT_REFUSALS },
      policy: () => this.currentPolicy,
      directory: this.directoryPort,
      oncall: this.oncallPort,
      keys: this.keyRegistry,
      effects: this.effects,
      logger,
      expiryWarningMs: env.EXPIRY_WARNING,
      observer: this.requestMetrics,
    });
    this.offboarding = new OffboardingService({ store: this.store, service: this.service, directory: this.directoryPort, audit: this.audit, logger });
  }

  /** Loads and validates the workflow files first: an invalid policy stops the start with every problem listed. */
  static async create(env: Env, logger: Logger, integrations: Integrations = {}): Promise<AppContext> {
    const policy = await loadPolicy(env.WORKFLOWS_DIR);
    for (const warning of policy.warnings ?? []) logger.warn({ warning }, 'workflow files: warning');
    return new AppContext(env, logger, policy, integrations);
  }

  get policy(): Policy {
    return this.currentPolicy;
  }

  /** Re-reads the workflow files (SIGHUP). A broken edit keeps the running policy and is logged. */
  async reloadPolicy(processName: string): Promise<boolean> {
    try {
      const next = await loadPolicy(this.env.WORKFLOWS_DIR);
      this.currentPolicy = next;
      await this.auditConfigLoaded(processName);
      this.logger.info({ hash: next.hash }, 'workflows reloaded');
      return true;
    } catch (err) {
      this.logger.error({ err }, 'workflow reload failed; keeping the running policy');
      return false;
    }
  }

  async auditConfigLoaded(processName: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.audit.append(
      [
        {
          type: AUDIT_EVENT_TYPES.configLoaded,
          actor: { id: 'system', via: 'system' },
          data: {
            process: processName,
            policy: this.currentPolicy.hash,
            files: this.currentPolicy.files,
            resources: [...this.currentPolicy.resources.keys()],
            workflows: [...this.currentPolicy.workflows.keys()],
            ...extra,
          },
        },
      ],
      Date.now(),
    );
  }

  /** One line on Redis for /readyz: `ok`, or why not. */
  async redisCheck(): Promise<string> {
    try {
      return (await this.redis.ping()) === 'PONG' ? 'ok' : 'unexpected reply';
    } catch (err) {
      return `down: ${(err as Error).message}`;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.certificatesQueue.close(), this.timersQueue.close(), this.deliveriesQueue.close()]);
    await Promise.allSettled([this.redis.quit(), this.bullConnection.quit()]);
  }
}
