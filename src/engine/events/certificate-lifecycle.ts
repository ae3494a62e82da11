import { AUDIT_EVENT_TYPES as A } from '../audit-event-types';
import { audit, TIMER_TOLERANCE_MS } from '../decision-kit';
import type { AccessRequest, Decision, DecisionContext, Effect, IssuedCertificate } from '../types';

export function issued(request: AccessRequest, certificate: IssuedCertificate, ctx: DecisionContext): Decision {
  if (request.state === 'issued' && request.certificate) return { kind: 'noop', reason: 'already issued' };
  if (request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}; certificate discarded` };
  const effects: Effect[] = [
    audit(A.certIssued, ctx.actor, 'system', request.id, {
      kind: certificate.kind,
      serial: certificate.serial,
      keyFingerprint: certificate.keyFingerprint,
      principals: certificate.principals,
      validAfter: certificate.validAfter,
      validBefore: certificate.validBefore,
      adminIssued: request.adminIssued !== undefined,
    }),
    { type: 'notify_requester', notice: 'issued' },
  ];
  // No timer effect: the issuance job itself stays with the grant (BullMQ delayed steps: warn,
  // then expire); the reconciler's sweep of the expiry index is the backstop.
  return { kind: 'transition', request: { ...request, state: 'issued', certificate, updatedAt: ctx.now }, effects };
}

export function issueFailed(request: AccessRequest, error: string, ctx: DecisionContext): Decision {
  if (request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}` };
  return {
    kind: 'transition',
    request: { ...request, state: 'failed', failure: error.slice(0, 1000), closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      audit(A.requestFailed, ctx.actor, 'system', request.id, { error: error.slice(0, 1000) }),
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'failed' },
    ],
  };
}

/** The grant ran its course. An extension that follows on from it starts now; a pending one can no longer be approved. */
export function expire(request: AccessRequest, ctx: DecisionContext): Decision {
  if (request.state !== 'issued' && request.state !== 'approved') return { kind: 'noop', reason: `request is ${request.state}` };
  // A grant shortened after issuance (the grace after its incident resolved) ends before its certificate does:
  // the certificate is then revoked, or it would outlive the grant.
  const shortened = request.breakGlass?.incidentResolvedAt !== undefined;
  const end = shortened ? request.expiresAt : (request.certificate?.validBefore ?? request.expiresAt);
  if (end === undefined || ctx.now + TIMER_TOLERANCE_MS < end) return { kind: 'noop', reason: 'not expired yet' };
  const early = shortened && request.certificate !== undefined && request.certificate.validBefore > end;
  return {
    kind: 'transition',
    request: { ...request, state: 'expired', closedAt: ctx.now, closedBy: 'system', updatedAt: ctx.now },
    effects: [
      ...(early ? [{ type: 'revoke_certificate' } as const] : []),
      audit(A.requestExpired, ctx.actor, 'system', request.id, { serial: request.certificate?.serial, expiresAt: end, ...(early ? { certificateRevoked: true } : {}) }),
      { type: 'close_extensions' },
      { type: 'update_approval_messages' },
      { type: 'notify_requester', notice: 'expired' },
    ],
  };
}
