import { X509Certificate, type KeyObject } from 'node:crypto';

import { X509CaInvalidError } from './errors/x509-ca-invalid-error';
import { Asn1Type, bytesOf, childrenOf, isContextTag, isUniversal, oidOf, parseDer, type Asn1 } from './x509-der';
import { EXTENSION_OID, keyIdentifierOf } from './x509-extensions';
import { createX509Signer, type X509Signer } from './x509-signer';

/** The CA material the worker signs with: its private key and its own certificate (PEM). */
export interface X509IssuingCa {
  privateKey: KeyObject;
  certificatePem: string;
}

/** What issuing a certificate or a CRL needs from the CA. */
export interface X509Issuer {
  /** The CA certificate's subject, reused byte for byte as the issuer name. */
  name: Asn1;
  /** The CA's SKI, written as the AKI of everything it signs. */
  keyIdentifier: Buffer;
  signer: X509Signer;
}

interface ParsedCaCertificate {
  certificate: X509Certificate;
  name: Asn1;
  keyIdentifier: Buffer;
}

const MAX_CACHED = 16;
// The worker signs many certificates with one or two CAs; parse each CA certificate once.
const parsedByPem = new Map<string, ParsedCaCertificate>();
const checkedKeys = new WeakMap<KeyObject, { pem: string; signer: X509Signer }>();

export function loadX509Issuer(ca: X509IssuingCa): X509Issuer {
  const parsed = parseCaCertificate(ca.certificatePem);
  const checked = checkedKeys.get(ca.privateKey);
  if (checked?.pem === ca.certificatePem) return { name: parsed.name, keyIdentifier: parsed.keyIdentifier, signer: checked.signer };

  const signer = createX509Signer(ca.privateKey);
  if (!parsed.certificate.checkPrivateKey(ca.privateKey)) {
    throw new X509CaInvalidError('The X.509 CA private key does not match the CA certificate.');
  }
  checkedKeys.set(ca.privateKey, { pem: ca.certificatePem, signer });
  return { name: parsed.name, keyIdentifier: parsed.keyIdentifier, signer };
}

function parseCaCertificate(pem: string): ParsedCaCertificate {
  const cached = parsedByPem.get(pem);
  if (cached) return cached;

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new X509CaInvalidError('The X.509 CA certificate cannot be read.', { cause: error });
  }
  if (!certificate.ca) throw new X509CaInvalidError('The X.509 CA certificate is not a CA certificate (BasicConstraints CA:TRUE).');

  let parsed: ParsedCaCertificate;
  try {
    const [tbs] = childrenOf(parseDer(certificate.raw), 'Certificate');
    const fields = childrenOf(tbs, 'TBSCertificate');
    // version is [0] EXPLICIT and optional; everything after it has a fixed position.
    const at = isContextTag(fields[0], 0) ? 1 : 0;
    const name = fields[at + 4];
    const spki = fields[at + 5];
    if (!isUniversal(name, Asn1Type.SEQUENCE) || !isUniversal(spki, Asn1Type.SEQUENCE)) throw new Error('unexpected TBSCertificate layout');
    const extensions = fields.find((field) => isContextTag(field, 3));
    parsed = { certificate, name, keyIdentifier: subjectKeyIdentifierOf(extensions) ?? keyIdentifierOf(spki) };
  } catch (error) {
    throw new X509CaInvalidError('The X.509 CA certificate is not a DER certificate access-bot can read.', { cause: error });
  }

  if (parsedByPem.size >= MAX_CACHED) {
    const oldest = parsedByPem.keys().next();
    if (!oldest.done) parsedByPem.delete(oldest.value);
  }
  parsedByPem.set(pem, parsed);
  return parsed;
}

function subjectKeyIdentifierOf(extensions: Asn1 | undefined): Buffer | undefined {
  if (!extensions) return undefined;
  for (const extension of childrenOf(childrenOf(extensions, 'extensions')[0], 'Extensions')) {
    const members = childrenOf(extension, 'Extension');
    if (oidOf(members[0], 'extnID') !== EXTENSION_OID.subjectKeyIdentifier) continue;
    const inner = parseDer(bytesOf(members[members.length - 1], 'extnValue'));
    return bytesOf(inner, 'SubjectKeyIdentifier');
  }
  return undefined;
}
