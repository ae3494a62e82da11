import { createHash } from 'node:crypto';

import {
  booleanTrue,
  bytesOf,
  childrenOf,
  encodeDer,
  explicitTag,
  implicitOctets,
  namedBitString,
  octetString,
  oid,
  sequence,
  smallInteger,
  unsignedInteger,
  type Asn1,
} from './x509-der';

/** The RFC 5280 extensions access-bot writes into CA certificates, client certificates and CRLs. */
export interface X509Extension {
  oid: string;
  critical: boolean;
  value: Asn1;
}

export const EXTENSION_OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

const ID_KP_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// KeyUsage named bits, RFC 5280 4.2.1.3.
export const KEY_USAGE_BIT = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export function basicConstraints(options: { ca: false } | { ca: true; pathLength: number }): X509Extension {
  // DER: cA DEFAULT FALSE is omitted when false, leaving an empty SEQUENCE.
  const members = options.ca ? [booleanTrue(), smallInteger(options.pathLength)] : [];
  return { oid: EXTENSION_OID.basicConstraints, critical: true, value: sequence(members) };
}

export function keyUsage(bits: number[]): X509Extension {
  return { oid: EXTENSION_OID.keyUsage, critical: true, value: namedBitString(bits) };
}

export function extKeyUsageClientAuth(): X509Extension {
  return { oid: EXTENSION_OID.extKeyUsage, critical: false, value: sequence([oid(ID_KP_CLIENT_AUTH)]) };
}

export function subjectKeyIdentifier(keyIdentifier: Buffer): X509Extension {
  return { oid: EXTENSION_OID.subjectKeyIdentifier, critical: false, value: octetString(keyIdentifier) };
}

export function authorityKeyIdentifier(keyIdentifier: Buffer): X509Extension {
  return { oid: EXTENSION_OID.authorityKeyIdentifier, critical: false, value: sequence([implicitOctets(0, keyIdentifier)]) };
}

export function crlNumber(value: bigint): X509Extension {
  const hex = value.toString(16);
  return { oid: EXTENSION_OID.crlNumber, critical: false, value: unsignedInteger(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')) };
}

/** `Extensions ::= SEQUENCE OF Extension`, wrapped in the given explicit tag ([3] in a certificate, [0] in a CRL). */
export function extensionsBlock(tag: number, extensions: X509Extension[]): Asn1 {
  return explicitTag(
    tag,
    sequence(
      extensions.map((ext) =>
        sequence([oid(ext.oid), ...(ext.critical ? [booleanTrue()] : []), octetString(encodeDer(ext.value))]),
      ),
    ),
  );
}

/**
 * RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bytes. This is an
 * identifier for path building, not a security property, so SHA-1 is what every verifier expects.
 */
export function keyIdentifierOf(spki: Asn1): Buffer {
  const [, subjectPublicKey] = childrenOf(spki, 'SubjectPublicKeyInfo');
  const bits = bytesOf(subjectPublicKey, 'subjectPublicKey');
  return createHash('sha1').update(bits.subarray(1)).digest();
}
