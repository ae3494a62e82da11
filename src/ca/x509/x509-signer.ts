import { sign, type KeyObject } from 'node:crypto';

import { X509CaInvalidError } from './errors/x509-ca-invalid-error';
import { bitStringOfBytes, encodeDer, nullValue, oid, sequence, sequenceOfDer, type Asn1 } from './x509-der';

/** How a CA key signs X.509 structures: the AlgorithmIdentifier to write and the native signing call. */
export interface X509Signer {
  readonly algorithm: 'sha256WithRSAEncryption' | 'ecdsa-with-SHA256';
  algorithmIdentifier(): Asn1;
  sign(tbsDer: Buffer): Buffer;
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** CA keys we sign with: RSA of 2048 bits or more (PKCS#1 v1.5, SHA-256) and ECDSA P-256 (SHA-256). */
export function createX509Signer(privateKey: KeyObject): X509Signer {
  if (privateKey.type !== 'private') throw new X509CaInvalidError('The X.509 CA key given for signing is not a private key.');
  const details = privateKey.asymmetricKeyDetails ?? {};
  if (privateKey.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) {
    return {
      algorithm: 'sha256WithRSAEncryption',
      // RFC 4055: the parameters of sha256WithRSAEncryption are an explicit NULL.
      algorithmIdentifier: () => sequence([oid(SHA256_WITH_RSA), nullValue()]),
      sign: (tbsDer) => sign('sha256', tbsDer, privateKey),
    };
  }
  if (privateKey.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') {
    return {
      algorithm: 'ecdsa-with-SHA256',
      // RFC 5758 3.2: ecdsa-with-SHA256 has no parameters at all.
      algorithmIdentifier: () => sequence([oid(ECDSA_WITH_SHA256)]),
      sign: (tbsDer) => sign('sha256', tbsDer, { key: privateKey, dsaEncoding: 'der' }),
    };
  }
  const kind = [privateKey.asymmetricKeyType, details.namedCurve ?? details.modulusLength].filter(Boolean).join(' ');
  throw new X509CaInvalidError(`The X.509 CA key (${kind || 'unknown type'}) cannot sign: use RSA of 2048 bits or more, or ECDSA P-256.`);
}

/** Signs a TBSCertificate or TBSCertList and returns the DER of the signed structure. */
export function signX509Structure(tbs: Asn1, signer: X509Signer): Buffer {
  const tbsDer = encodeDer(tbs);
  const signature = signer.sign(tbsDer);
  return sequenceOfDer([tbsDer, encodeDer(signer.algorithmIdentifier()), encodeDer(bitStringOfBytes(signature))]);
}
