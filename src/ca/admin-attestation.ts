import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json';
import type { AccessRequest } from '../engine/types';
import type { CaMaterial } from './ca-directory';

const INFO = 'access-bot admin issuance v1';

/**
 * Admin issuance (`cert sign`) skips the approval workflow, so the worker must know it really came
 * from an admin and not from a hand-written Redis record marked "admin-issued": the CLI attests the
 * request with a key derived from the SSH CA private key, which only the CA directory holds. The
 * bot never has it, so neither a compromised bot nor anyone with Redis access can forge one.
 */
export function adminAttestationKey(ca: Pick<CaMaterial, 'ssh'>): Buffer {
  const secret = ca.ssh.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), INFO, 32));
}

/** What the attestation binds: who gets which access, with which key, for how long, on whose word. */
function attestedFields(request: AccessRequest): string {
  return canonicalJson({
    id: request.id,
    requester: { id: request.requester.id, email: request.requester.email ?? null },
    resource: request.resource,
    keyFingerprint: request.keyFingerprint ?? null,
    requestedMs: request.requestedMs,
    by: request.adminIssued?.by ?? null,
    createdAt: request.createdAt,
  });
}

export function attestAdminIssue(request: AccessRequest, key: Buffer): string {
  return createHmac('sha256', key).update(attestedFields(request)).digest('hex');
}

/** Checks against the current CA and every previous one still trusted (a rotation between sign and issue). */
export function verifyAdminAttestation(request: AccessRequest, ca: CaMaterial): boolean {
  const given = request.adminIssued?.attestation;
  if (!given || !/^[0-9a-f]{64}$/.test(given)) return false;
  const wanted = Buffer.from(given, 'hex');
  return [ca, ...ca.previous].some((generation) => timingSafeEqual(Buffer.from(attestAdminIssue(request, adminAttestationKey(generation)), 'hex'), wanted));
}
