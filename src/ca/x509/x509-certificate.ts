import type { KeyObject } from 'node:crypto';

import { X509SystemMastersRefusedError } from './errors/x509-system-masters-refused-error';
import { explicitTag, parseDer, sequence, smallInteger, toPem, unsignedInteger } from './x509-der';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extensionsBlock,
  extKeyUsageClientAuth,
  KEY_USAGE_BIT,
  keyIdentifierOf,
  keyUsage,
  subjectKeyIdentifier,
} from './x509-extensions';
import { sha256Fingerprint } from './x509-fingerprint';
import { loadX509Issuer, type X509IssuingCa } from './x509-issuer';
import { assertAcceptedPublicKey } from './x509-key-policy';
import { assertSubject, buildName } from './x509-name';
import { normalizeX509Serial, randomX509Serial, x509SerialHex } from './x509-serial';
import { signX509Structure } from './x509-signer';
import { validityAsn1, x509Validity } from './x509-validity';

/** Kubernetes' built-in cluster-admin group: RBAC cannot revoke it, so it is never granted by accident. */
export const SYSTEM_MASTERS = 'system:masters';

export interface X509ClientCertificateOptions {
  ca: X509IssuingCa;
  subjectPublicKey: KeyObject;
  /** The user. */
  commonName: string;
  /** The groups, one O attribute each, in this order. */
  organizations: readonly string[];
  /** Epoch ms; rounded down to whole seconds. */
  validFrom: number;
  validTo: number;
  /** Unsigned big-endian; a random positive 128-bit serial when absent. */
  serial?: Buffer;
  /** Only when the resource's configuration names `system:masters` itself. */
  allowSystemMasters?: boolean;
}

export interface IssuedX509Certificate {
  pem: string;
  /** Lowercase hex of the serial's magnitude (`openssl x509 -serial`, lowercased). */
  serialHex: string;
  /** SHA-256 of the certificate DER, `AB:CD:…`. */
  fingerprintSha256: string;
  /** Epoch ms as written in the certificate (whole seconds). */
  notBefore: number;
  notAfter: number;
}

/**
 * A TLS client certificate: CN = user, O = each group, EKU clientAuth, KeyUsage digitalSignature
 * (critical; a TLS client only signs its CertificateVerify, whatever its key type), CA:FALSE
 * (critical), SKI of the subject key, AKI = the CA's SKI. Signed with Node's native crypto.
 */
export function issueX509ClientCertificate(options: X509ClientCertificateOptions): IssuedX509Certificate {
  assertSubject(options.commonName, options.organizations);
  if (options.organizations.includes(SYSTEM_MASTERS) && options.allowSystemMasters !== true) {
    throw new X509SystemMastersRefusedError(
      `The group ${SYSTEM_MASTERS} grants unrevocable Kubernetes cluster-admin; it is only issued when the resource names it explicitly.`,
    );
  }
  assertAcceptedPublicKey(options.subjectPublicKey);
  const validity = x509Validity(options.validFrom, options.validTo);
  const serial = options.serial ? normalizeX509Serial(options.serial) : randomX509Serial();
  const issuer = loadX509Issuer(options.ca);

  const spki = parseDer(options.subjectPublicKey.export({ type: 'spki', format: 'der' }));
  const tbs = sequence([
    explicitTag(0, smallInteger(2)),
    unsignedInteger(serial),
    issuer.signer.algorithmIdentifier(),
    issuer.name,
    validityAsn1(validity),
    buildName(options.commonName, options.organizations),
    spki,
    extensionsBlock(3, [
      basicConstraints({ ca: false }),
      keyUsage([KEY_USAGE_BIT.digitalSignature]),
      extKeyUsageClientAuth(),
      subjectKeyIdentifier(keyIdentifierOf(spki)),
      authorityKeyIdentifier(issuer.keyIdentifier),
    ]),
  ]);
  const der = signX509Structure(tbs, issuer.signer);
  return {
    pem: toPem('CERTIFICATE', der),
    serialHex: x509SerialHex(serial),
    fingerprintSha256: sha256Fingerprint(der),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}
