import { createPublicKey, verify, type KeyObject } from 'node:crypto';

import { z } from 'zod';

import { X509CsrSignatureInvalidError } from './errors/x509-csr-signature-invalid-error';
import { X509PrivateKeyPastedError } from './errors/x509-private-key-pasted-error';
import { X509PublicKeyMalformedError } from './errors/x509-public-key-malformed-error';
import { X509PublicKeyTooLargeError } from './errors/x509-public-key-too-large-error';
import { X509PublicKeyUnsupportedError } from './errors/x509-public-key-unsupported-error';
import { X509PublicKeyWeakError } from './errors/x509-public-key-weak-error';
import {
  Asn1Type,
  bytesOf,
  childrenOf,
  directoryStringOf,
  encodeDer,
  isContextTag,
  isUniversal,
  oidOf,
  parseDer,
  type Asn1,
} from './x509-der';
import { sha256Fingerprint } from './x509-fingerprint';
import { assertAcceptedPublicKey, describePublicKey } from './x509-key-policy';
import { NAME_ATTRIBUTE_OID } from './x509-name';

export const MAX_PUBLIC_KEY_INPUT_BYTES = 16 * 1024;

/** What the CSR asked for. Informative only: the certificate's subject comes from the request, never from here. */
export interface X509CsrSubject {
  commonName?: string;
  organizations: string[];
}

export interface ParsedX509PublicKey {
  publicKey: KeyObject;
  source: 'spki' | 'csr';
  csrSubject?: X509CsrSubject;
  /** SHA-256 of the key's SubjectPublicKeyInfo DER, `AB:CD:…`. */
  fingerprintSha256: string;
  /** "RSA 3072", "ECDSA P-256", "Ed25519". */
  description: string;
}

const PRIVATE_KEY_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-|-----BEGIN [A-Z0-9 ]*PRIVATE KEY BLOCK-----/;
const OPENSSH_PUBLIC_KEY = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+AAAA/;
const PEM_BLOCK = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END ([A-Z0-9 ]+)-----$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads a user's key for X.509 issuance: a PEM `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS#1),
 * or `CERTIFICATE REQUEST` whose own signature must verify. Refuses, each with a coded error
 * whose message says why: private keys (without echoing them), input over 16 KiB, anything
 * unreadable, key types other than RSA >= 2048 / ECDSA P-256, P-384 / Ed25519, weak keys.
 */
export function parseX509PublicKeyInput(input: string): ParsedX509PublicKey {
  const parsedInput = z.string().safeParse(input);
  if (!parsedInput.success) throw new X509PublicKeyMalformedError('Paste the public key or CSR as text.');
  const text = parsedInput.data;
  if (PRIVATE_KEY_MARKER.test(text)) {
    throw new X509PrivateKeyPastedError(
      'This is a PRIVATE key. It was not stored. Paste the public key (`openssl pkey -in key.pem -pubout`) or a CSR instead, and treat this private key as exposed: replace it.',
    );
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_PUBLIC_KEY_INPUT_BYTES) {
    throw new X509PublicKeyTooLargeError(`A public key or CSR is at most ${MAX_PUBLIC_KEY_INPUT_BYTES / 1024} KiB; this is larger.`);
  }
  const trimmed = text.trim();
  if (OPENSSH_PUBLIC_KEY.test(trimmed)) {
    throw new X509PublicKeyUnsupportedError(
      'This is an OpenSSH public key; X.509 certificates need a PEM public key (for RSA and ECDSA keys: `ssh-keygen -e -m PKCS8 -f key.pub`) or a CSR.',
    );
  }
  const { label, der } = readSinglePem(trimmed);

  switch (label) {
    case 'PUBLIC KEY':
      return accept(readKey(der, 'spki'), 'spki');
    case 'RSA PUBLIC KEY':
      return accept(readKey(der, 'pkcs1'), 'spki');
    case 'CERTIFICATE REQUEST':
    case 'NEW CERTIFICATE REQUEST': {
      const { publicKey, subject } = readCsr(der);
      return { ...accept(publicKey, 'csr'), csrSubject: subject };
    }
    case 'CERTIFICATE':
      throw new X509PublicKeyUnsupportedError('This is a certificate, not a public key: paste its public key or a CSR instead.');
    default:
      throw new X509PublicKeyUnsupportedError(`A PEM "${label}" block is neither a public key nor a certificate request.`);
  }
}

function accept(publicKey: KeyObject, source: 'spki' | 'csr'): ParsedX509PublicKey {
  assertAcceptedPublicKey(publicKey);
  return {
    publicKey,
    source,
    fingerprintSha256: sha256Fingerprint(publicKey.export({ type: 'spki', format: 'der' })),
    description: describePublicKey(publicKey),
  };
}

function readSinglePem(text: string): { label: string; der: Buffer } {
  const blocks = text.match(/-----BEGIN /g)?.length ?? 0;
  if (blocks === 0) throw new X509PublicKeyMalformedError(`This is not a PEM block; paste a "-----BEGIN PUBLIC KEY-----" key or a CSR.`);
  if (blocks > 1) throw new X509PublicKeyMalformedError('Paste exactly one PEM block: this text holds several.');
  const match = PEM_BLOCK.exec(text);
  if (!match) throw new X509PublicKeyMalformedError('The PEM block is damaged: its BEGIN/END lines are missing or there is text around it.');
  const [, label = '', body = '', endLabel] = match;
  if (label !== endLabel) throw new X509PublicKeyMalformedError(`The PEM block begins as "${label}" but ends as another type.`);
  if (body.includes(':')) throw new X509PublicKeyMalformedError('The PEM block carries headers (encrypted or annotated); paste a plain PEM block.');
  const base64 = body.replace(/\s+/g, '');
  const der = Buffer.from(base64, 'base64');
  if (!BASE64.test(base64) || base64.length % 4 !== 0 || der.length === 0 || der.toString('base64') !== base64) {
    throw new X509PublicKeyMalformedError('The PEM block is damaged: its body is not valid base64.');
  }
  return { label, der };
}

function readKey(der: Buffer, type: 'spki' | 'pkcs1'): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type });
  } catch (error) {
    throw new X509PublicKeyMalformedError('The public key cannot be read: it is damaged, or of an algorithm access-bot does not know.', {
      cause: error,
    });
  }
}

type CsrSignatureAlgorithm = { keyType: 'rsa' | 'ec' | 'ed25519'; hash: 'sha256' | 'sha384' | 'sha512' | null };

const CSR_SIGNATURE_ALGORITHMS: Record<string, CsrSignatureAlgorithm> = {
  '1.2.840.113549.1.1.11': { keyType: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { keyType: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { keyType: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { keyType: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { keyType: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { keyType: 'ec', hash: 'sha512' },
  '1.3.101.112': { keyType: 'ed25519', hash: null },
};
const WEAK_CSR_SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'MD5',
  '1.2.840.113549.1.1.5': 'SHA-1',
  '1.2.840.10045.4.1': 'SHA-1',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

interface CsrParts {
  info: Asn1;
  subject: Asn1;
  spki: Asn1;
  algorithmOid: string;
  algorithmParameters: Asn1[];
  signature: Buffer;
}

/** PKCS#10 (RFC 2986): the request's key, after its self-signature is checked against that key. */
function readCsr(der: Buffer): { publicKey: KeyObject; subject: X509CsrSubject } {
  const parts = splitCsr(der);
  const publicKey = readKey(encodeDer(parts.spki), 'spki');
  assertAcceptedPublicKey(publicKey);

  const weak = WEAK_CSR_SIGNATURE_ALGORITHMS[parts.algorithmOid];
  if (weak) throw new X509PublicKeyWeakError(`The CSR is signed with ${weak}; sign it with SHA-256 (openssl req -sha256).`);
  if (parts.algorithmOid === RSASSA_PSS) {
    throw new X509PublicKeyUnsupportedError('RSA-PSS signed CSRs are not supported; sign the CSR with PKCS#1 v1.5 (the openssl default).');
  }
  const algorithm = CSR_SIGNATURE_ALGORITHMS[parts.algorithmOid];
  if (!algorithm) throw new X509PublicKeyUnsupportedError(`The CSR's signature algorithm (${parts.algorithmOid}) is not supported.`);
  const parametersOk =
    parts.algorithmParameters.length === 0 ||
    (algorithm.keyType === 'rsa' && parts.algorithmParameters.length === 1 && isUniversal(parts.algorithmParameters[0], Asn1Type.NULL));
  if (!parametersOk) throw new X509PublicKeyMalformedError('The CSR signature algorithm carries unexpected parameters.');
  if (publicKey.asymmetricKeyType !== algorithm.keyType) {
    throw new X509CsrSignatureInvalidError(`The CSR holds an ${describePublicKey(publicKey)} key but is signed with another key type.`);
  }

  const signedBytes = encodeDer(parts.info);
  let valid: boolean;
  try {
    valid = verify(algorithm.hash, signedBytes, { key: publicKey, dsaEncoding: 'der' }, parts.signature);
  } catch {
    valid = false; // a signature that cannot even be decoded is as invalid as a wrong one
  }
  if (!valid) {
    throw new X509CsrSignatureInvalidError("The CSR's signature does not verify with the key inside it: it was altered or not signed by that key.");
  }
  return { publicKey, subject: readSubject(parts.subject) };
}

function splitCsr(der: Buffer): CsrParts {
  let root: Asn1;
  try {
    root = parseDer(der);
  } catch (error) {
    throw new X509PublicKeyMalformedError('The certificate request cannot be read: it is not valid DER.', { cause: error });
  }
  // The signature covers the exact bytes of CertificationRequestInfo; insisting on canonical
  // DER means the bytes we verify are the bytes that were sent.
  if (!encodeDer(root).equals(der)) throw new X509PublicKeyMalformedError('The certificate request is not DER-encoded.');
  try {
    const [info, algorithmIdentifier, signatureBits, ...extra] = childrenOf(root, 'CertificationRequest');
    const [version, subject, spki, attributes, ...more] = childrenOf(info, 'CertificationRequestInfo');
    const [algorithm, ...algorithmParameters] = childrenOf(algorithmIdentifier, 'signatureAlgorithm');
    const signature = bytesOf(signatureBits, 'signature');
    const valid =
      extra.length === 0 &&
      more.length === 0 &&
      isUniversal(version, Asn1Type.INTEGER) &&
      bytesOf(version, 'version').equals(Buffer.from([0])) &&
      isUniversal(subject, Asn1Type.SEQUENCE) &&
      isUniversal(spki, Asn1Type.SEQUENCE) &&
      (attributes === undefined || isContextTag(attributes, 0)) &&
      isUniversal(signatureBits, Asn1Type.BITSTRING) &&
      signature[0] === 0;
    if (!valid || !info) throw new Error('unexpected CertificationRequest layout');
    return {
      info,
      subject,
      spki,
      algorithmOid: oidOf(algorithm, 'signature algorithm'),
      algorithmParameters,
      signature: signature.subarray(1),
    };
  } catch (error) {
    throw new X509PublicKeyMalformedError('The certificate request is damaged: its structure is not a PKCS#10 request.', { cause: error });
  }
}

/** CN (the last one, the most specific) and every O; attribute values of exotic types are skipped. */
function readSubject(name: Asn1): X509CsrSubject {
  const subject: X509CsrSubject = { organizations: [] };
  try {
    for (const rdn of childrenOf(name, 'Name')) {
      for (const attribute of childrenOf(rdn, 'RelativeDistinguishedName')) {
        const [type, value] = childrenOf(attribute, 'AttributeTypeAndValue');
        const typeOid = oidOf(type, 'attribute type');
        if (typeOid !== NAME_ATTRIBUTE_OID.commonName && typeOid !== NAME_ATTRIBUTE_OID.organizationName) continue;
        const text = readDirectoryString(value);
        if (text === undefined) continue;
        if (typeOid === NAME_ATTRIBUTE_OID.commonName) subject.commonName = text;
        else subject.organizations.push(text);
      }
    }
  } catch (error) {
    throw new X509PublicKeyMalformedError("The certificate request's subject name is damaged.", { cause: error });
  }
  return subject;
}

function readDirectoryString(value: Asn1 | undefined): string | undefined {
  try {
    return directoryStringOf(value, 'attribute value');
  } catch {
    return undefined; // informative field only; an unknown string type does not make the key unusable
  }
}
