import { createHash } from 'node:crypto';
import type { Resource } from '../config/policy';
import type { AccessRequest, CertificateSubject, IssuedCertificate } from '../engine/types';
import type { RegisteredKey } from '../requests/ports';
import type { CaMaterial } from './ca-directory';
import { CertificateInputError } from './errors/certificate-input-error';
import { sessionForceCommand } from './ssh/session-force-command';
import { signSshUserCertificate, type SshCriticalOptions } from './ssh/ssh-certificate';
import { ParsedKeyCache } from './parsed-key-cache';
import { parseSshPublicKey, type SshPublicKey } from './ssh/ssh-public-key';
import { issueX509ClientCertificate, SYSTEM_MASTERS } from './x509/x509-certificate';
import { parseX509PublicKeyInput, type ParsedX509PublicKey } from './x509/x509-public-key';

/** Certificates start 60 s before approval so a server whose clock lags a little still accepts them. */
export const BACKDATE_MS = 60_000;

export interface SignInput {
  request: AccessRequest;
  resource: Resource;
  key: RegisteredKey;
  /** The principals or subject, as the worker verified them against its own policy and directory. */
  subject: CertificateSubject;
  ca: CaMaterial;
  /** From the Redis counter: unique per CA for SSH (KRLs revoke by serial). */
  sshSerial: () => Promise<bigint>;
  now: number;
}

/** Fingerprint of an X.509 CA: SHA-256 of its public key (SPKI), as `SHA256:<hex>`. */
export function x509CaFingerprint(ca: CaMaterial['x509']): string {
  return `SHA256:${createHash('sha256').update(ca.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

/**
 * Turns an approved request into a certificate. Everything in it comes from the resource's
 * configuration and the request's approved window; nothing comes from text the user typed.
 */
export class CertificateSigner {
  private readonly sshKeys = new ParsedKeyCache<SshPublicKey>();
  private readonly x509Keys = new ParsedKeyCache<ParsedX509PublicKey>();

  constructor(private readonly sessionWrapperPath: string) {}

  async sign(input: SignInput): Promise<IssuedCertificate> {
    const { request, resource, key } = input;
    if (request.approvedAt === undefined || request.expiresAt === undefined)
      throw new CertificateInputError(`Request ${request.id} has no approved window.`);
    if (request.expiresAt <= input.now) throw new CertificateInputError(`Request ${request.id}'s access window has already ended.`);
    // The window the engine fixed at approval. An extension starts exactly where its grant ends (no
    // backdating), so the holder never has two valid certificates for one resource at once.
    const validAfter = request.extension && request.startsAt !== undefined ? request.startsAt : (request.startsAt ?? request.approvedAt) - BACKDATE_MS;
    const validBefore = request.expiresAt;
    const approvers = [...new Set(request.reviews.filter((r) => r.decision === 'approve').map((r) => r.by))];
    const route = request.adminIssued ? 'admin' : request.breakGlass ? 'break-glass' : request.autoApproved ? 'auto' : approvers.join(',');
    const keyId = `${request.id} user=${request.requester.email ?? request.requester.id} resource=${resource.name} approved-by=${route}`;

    if (resource.ssh) {
      if (key.kind !== 'ssh') throw new CertificateInputError(`${resource.name} needs an SSH public key; the registered key is for X.509.`);
      const spec = resource.ssh;
      if (input.subject.kind !== 'ssh') throw new CertificateInputError(`${resource.name} is an SSH resource; the subject is for X.509.`);
      const principals = input.subject.principals;
      if (principals.length === 0) throw new CertificateInputError(`${resource.name} yields no principals.`);
      const criticalOptions: SshCriticalOptions = {};
      if (spec.source_address) criticalOptions.sourceAddress = spec.source_address;
      if (spec.end_sessions_at_expiry) criticalOptions.forceCommand = sessionForceCommand(this.sessionWrapperPath, validBefore, spec.force_command);
      else if (spec.force_command) criticalOptions.forceCommand = spec.force_command;
      const signed = signSshUserCertificate({
        publicKey: this.sshKeys.get(key.text, parseSshPublicKey),
        ca: { privateKey: input.ca.ssh.privateKey, publicKey: input.ca.ssh.publicKey },
        serial: await input.sshSerial(),
        keyId,
        principals,
        validAfter,
        validBefore,
        criticalOptions,
        extensions: spec.extensions,
      });
      return {
        kind: 'ssh',
        serial: signed.serial.toString(),
        keyFingerprint: signed.fingerprint,
        validAfter: signed.validAfter,
        validBefore: signed.validBefore,
        principals: signed.principals,
        text: signed.line,
        issuedAt: input.now,
        caFingerprint: signed.caFingerprint,
        keyId,
      };
    }

    if (!resource.x509) throw new CertificateInputError(`${resource.name} has no certificate configuration.`);
    if (key.kind !== 'x509') throw new CertificateInputError(`${resource.name} needs a PEM public key or CSR; the registered key is for SSH.`);
    const spec = resource.x509;
    if (input.subject.kind !== 'x509') throw new CertificateInputError(`${resource.name} is an X.509 resource; the subject is for SSH.`);
    const subject = input.subject;
    const issued = issueX509ClientCertificate({
      ca: { privateKey: input.ca.x509.privateKey, certificatePem: input.ca.x509.certificatePem },
      subjectPublicKey: this.x509Keys.get(key.text, parseX509PublicKeyInput).publicKey,
      commonName: subject.commonName,
      organizations: subject.groups,
      validFrom: validAfter,
      validTo: validBefore,
      allowSystemMasters: spec.groups.includes(SYSTEM_MASTERS),
    });
    return {
      kind: 'x509',
      serial: issued.serialHex,
      keyFingerprint: key.fingerprint,
      validAfter: issued.notBefore,
      validBefore: issued.notAfter,
      principals: [...subject.groups],
      text: issued.pem,
      issuedAt: input.now,
      caFingerprint: x509CaFingerprint(input.ca.x509),
    };
  }
}
