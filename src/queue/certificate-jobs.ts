import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaMaterial } from '../ca/ca-directory';
import type { CaPublisher } from '../ca/ca-publisher';
import type { CertificateSigner } from '../ca/certificate-signer';
import type { PublishedCaStore } from '../ca/published-ca-store';
import type { RedisAuditLog } from '../audit/redis-audit-log';
import type { Policy } from '../config/policy';
import { AUDIT_EVENT_TYPES as A } from '../engine/audit-event-types';
import type { AccessRequest } from '../engine/types';
import { AccessBotError } from '../errors/access-bot-error';
import type { Logger } from '../log/logger';
import type { KeyRegistry } from '../requests/ports';
import type { RequestService } from '../requests/request-service';
import type { RedisKeys } from '../store/redis-keys';
import type { RedisRequestStore } from '../store/redis-request-store';
import type { GrantVerifier } from './grant-verifier';

export interface CertificateJobsDeps {
  redis: Redis;
  keys: RedisKeys;
  store: RedisRequestStore;
  service: RequestService;
  keyRegistry: KeyRegistry;
  policy: () => Policy;
  ca: () => CaMaterial;
  signer: CertificateSigner;
  publisher: CaPublisher;
  published: PublishedCaStore;
  /** Re-checks every approved record against the worker's own policy before signing. */
  verifier: GrantVerifier;
  audit: Pick<RedisAuditLog, 'append'>;
  logger: Logger;
  clock?: () => number;
}

export type IssueOutcome = { state: 'issued'; serial: string; signedNow: boolean } | { state: string; skipped: true };

/** Where an issued grant is in its life: when its job should wake up next, if at all. */
export type GrantStep = { wakeAt: number; warned: boolean } | { done: true };

/**
 * What the CA worker does with each job. Issuance is idempotent: BullMQ delivers at least once
 * (a killed worker's job comes back after the stalled check), and the compare-and-set commit of
 * the certificate lets exactly one signature ever be stored and delivered per request.
 */
export class CertificateJobs {
  private readonly clock: () => number;

  constructor(private readonly deps: CertificateJobsDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** `lastAttempt`: no retry follows a failure, so the request is marked failed. */
  async issue(requestId: string, lastAttempt: boolean): Promise<IssueOutcome> {
    return (await this.issueAndRead(requestId, lastAttempt)).outcome;
  }

  /** issue(), also giving back the request as stored afterwards (for grantStep, without reading it again). */
  async issueAndRead(requestId: string, lastAttempt: boolean): Promise<{ outcome: IssueOutcome; request?: AccessRequest }> {
    const { store, service } = this.deps;
    const request = await store.get(requestId);
    if (!request) throw new UnrecoverableError(`request ${requestId} does not exist`);
    if (request.state === 'issued' && request.certificate)
      return { outcome: { state: 'issued', serial: request.certificate.serial, signedNow: false }, request };
    if (request.state !== 'approved') return { outcome: { state: request.state, skipped: true }, request };

    const fail = async (message: string): Promise<never> => {
      await service.recordIssueFailed(requestId, message);
      throw new UnrecoverableError(message);
    };
    const resource = this.deps.policy().resources.get(request.resource);
    if (!resource) return fail(`resource ${request.resource} no longer exists`);
    const key = request.keyFingerprint ? await this.deps.keyRegistry.get(request.requester.id, request.keyFingerprint) : undefined;
    if (!key) return fail(`the public key ${request.keyFingerprint ?? '(none)'} is no longer registered`);

    // The worker trusts no record for being marked approved: it re-derives that the policy it
    // loaded itself allows this grant. A refusal is final and audited.
    const check = await this.deps.verifier.verify(request);
    if (!check.ok) {
      await this.deps.audit.append(
        [{ type: A.issuanceRefused, actor: { id: 'system', via: 'system' }, requestId, data: { reason: check.reason, resource: request.resource } }],
        this.clock(),
      );
      this.deps.logger.warn({ requestId, reason: check.reason }, 'refused to sign: the record does not satisfy the policy');
      return fail(`The worker refused to sign: ${check.reason}.`);
    }

    let certificate;
    try {
      certificate = await this.deps.signer.sign({
        request,
        resource,
        key,
        subject: check.subject,
        ca: this.deps.ca(),
        sshSerial: async () => BigInt(await this.deps.redis.incr(this.deps.keys.serialCounter)),
        now: this.clock(),
      });
    } catch (err) {
      // Bad input (wrong key kind, missing email for a template, window over) never gets better.
      if (err instanceof AccessBotError) return fail(err.message);
      if (lastAttempt) await service.recordIssueFailed(requestId, err instanceof Error ? err.message : String(err));
      throw err;
    }

    const result = await service.recordIssued(requestId, certificate, request);
    if (result.status === 'ok') return { outcome: { state: 'issued', serial: certificate.serial, signedNow: true }, request: result.request };
    // Another delivery of this job committed first, or the request was revoked meanwhile: ours is discarded.
    const now = await store.get(requestId);
    if (now?.state === 'issued' && now.certificate)
      return { outcome: { state: 'issued', serial: now.certificate.serial, signedNow: false }, request: now };
    return { outcome: { state: now?.state ?? 'missing', skipped: true }, ...(now ? { request: now } : {}) };
  }

  /**
   * The issuance job follows its grant to the end: after issuing it sleeps (a BullMQ delayed step)
   * until the expiry warning, warns, sleeps until the end, and expires the grant. One job per grant
   * instead of a second timer job: measured, adding that job cost more worker CPU than signing.
   * Grants shorter than the warning period get no warning.
   */
  async grantStep(request: AccessRequest, warned: boolean, warningMs: number): Promise<GrantStep> {
    const requestId = request.id;
    if (request.state !== 'issued' || !request.certificate) return { done: true };
    const { validBefore, issuedAt } = request.certificate;
    const warnAt = validBefore - warningMs;
    const now = this.clock();
    if (now >= validBefore) {
      await this.deps.service.handleTimer(requestId, 'expiry');
      return { done: true };
    }
    if (!warned && warnAt > issuedAt) {
      if (now < warnAt) return { wakeAt: warnAt, warned: false };
      await this.deps.service.handleTimer(requestId, 'expiry_warning');
    }
    return { wakeAt: validBefore, warned: true };
  }

  /** Lists a revoked request's certificate in the KRL or CRL and republishes. */
  async revoke(requestId: string): Promise<void> {
    const request = await this.deps.store.get(requestId);
    if (!request?.certificate) return;
    await this.deps.published.addRevoked(request.certificate, request.closedAt ?? this.clock());
    await this.publish();
  }

  async publish(): Promise<void> {
    const published = await this.deps.publisher.publish(this.deps.ca());
    this.deps.logger.info({ version: published.version }, 'published CA keys, KRL and CRL');
  }
}
