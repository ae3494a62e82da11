import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { X509CaInvalidError } from './errors/x509-ca-invalid-error';
import { explicitTag, parseDer, sequence, smallInteger, toPem, unsignedInteger } from './x509-der';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extensionsBlock,
  KEY_USAGE_BIT,
  keyIdentifierOf,
  keyUsage,
  subjectKeyIdentifier,
} from './x509-extensions';
import { assertSubjectValue, buildName } from './x509-name';
import { normalizeX509Serial, randomX509Serial } from './x509-serial';
import { createX509Signer, signX509Structure } from './x509-signer';
import { validityAsn1, x509Validity } from './x509-validity';

export type X509CaKeyKind = 'rsa2048' | 'rsa3072' | 'ecdsa-p256';

export interface X509CaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateX509CaKey(kind: X509CaKeyKind = 'rsa2048'): X509CaKeyPair {
  switch (kind) {
    case 'rsa2048':
    case 'rsa3072':
      return generateKeyPairSync('rsa', { modulusLength: kind === 'rsa2048' ? 2048 : 3072, publicExponent: 0x10001 });
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    default:
      throw new X509CaInvalidError(`Unknown X.509 CA key kind "${String(kind satisfies never)}": use rsa2048, rsa3072 or ecdsa-p256.`);
  }
}

export interface X509CaCertificateOptions {
  privateKey: KeyObject;
  publicKey: KeyObject;
  commonName: string;
  organization?: string;
  /** Epoch ms. */
  validFrom: number;
  validTo: number;
  /** Unsigned big-endian; a random positive 128-bit serial when absent. */
  serial?: Buffer;
}

/**
 * A self-signed root for client certificates: CA:TRUE with pathLen 0 (it signs leaves only),
 * KeyUsage keyCertSign + cRLSign, both critical; SKI, and AKI pointing at itself. Returns PEM.
 */
export function createX509CaCertificate(options: X509CaCertificateOptions): string {
  const signer = createX509Signer(options.privateKey);
  const spkiDer = options.publicKey.export({ type: 'spki', format: 'der' });
  if (!createPublicKey(options.privateKey).export({ type: 'spki', format: 'der' }).equals(spkiDer)) {
    throw new X509CaInvalidError('The X.509 CA public key does not belong to its private key.');
  }
  assertSubjectValue('The CA common name', options.commonName);
  if (options.organization !== undefined) assertSubjectValue('The CA organization', options.organization);
  const validity = x509Validity(options.validFrom, options.validTo);
  const serial = options.serial ? normalizeX509Serial(options.serial) : randomX509Serial();

  const spki = parseDer(spkiDer);
  const keyId = keyIdentifierOf(spki);
  const name = buildName(options.commonName, options.organization === undefined ? [] : [options.organization]);
  const tbs = sequence([
    explicitTag(0, smallInteger(2)),
    unsignedInteger(serial),
    signer.algorithmIdentifier(),
    name,
    validityAsn1(validity),
    name,
    spki,
    extensionsBlock(3, [
      basicConstraints({ ca: true, pathLength: 0 }),
      keyUsage([KEY_USAGE_BIT.keyCertSign, KEY_USAGE_BIT.cRLSign]),
      subjectKeyIdentifier(keyId),
      authorityKeyIdentifier(keyId),
    ]),
  ]);
  return toPem('CERTIFICATE', signX509Structure(tbs, signer));
}
