import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ed25519PointProblem, ed25519PointProblemText } from '../ed25519-point';
import { SshKeyDegenerateError } from './errors/ssh-key-degenerate-error';
import { SshKeyInputTooLargeError } from './errors/ssh-key-input-too-large-error';
import { SshKeyIsCertificateError } from './errors/ssh-key-is-certificate-error';
import { SshKeyMalformedError } from './errors/ssh-key-malformed-error';
import { SshKeyTooWeakError } from './errors/ssh-key-too-weak-error';
import { SshKeyTypeMismatchError } from './errors/ssh-key-type-mismatch-error';
import { SshKeyTypeUnsupportedError } from './errors/ssh-key-type-unsupported-error';
import { SshPrivateKeySubmittedError } from './errors/ssh-private-key-submitted-error';
import { SshWireFormatError } from './errors/ssh-wire-format-error';
import { SshWireReader, SshWireWriter } from './ssh-wire';

/** OpenSSH public keys: parsing what a person submits, and encoding our own (CA) keys. */

export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];
export type EcdsaKeyType = Extract<SshKeyType, `ecdsa-${string}`>;

export const MIN_RSA_BITS = 2048;
/** OpenSSH refuses RSA moduli above this size (SSH_RSA_MAXIMUM_MODULUS_SIZE). */
export const MAX_RSA_BITS = 16384;
export const MAX_PUBLIC_KEY_INPUT_BYTES = 16 * 1024;

export interface EcdsaCurve {
  sshCurve: 'nistp256' | 'nistp384' | 'nistp521';
  jwkCurve: 'P-256' | 'P-384' | 'P-521';
  coordinateBytes: number;
  /** The hash RFC 5656 pairs with the curve for signatures. */
  hash: 'sha256' | 'sha384' | 'sha512';
  bits: number;
}

export const ECDSA_CURVES: Readonly<Record<EcdsaKeyType, EcdsaCurve>> = {
  'ecdsa-sha2-nistp256': { sshCurve: 'nistp256', jwkCurve: 'P-256', coordinateBytes: 32, hash: 'sha256', bits: 256 },
  'ecdsa-sha2-nistp384': { sshCurve: 'nistp384', jwkCurve: 'P-384', coordinateBytes: 48, hash: 'sha384', bits: 384 },
  'ecdsa-sha2-nistp521': { sshCurve: 'nistp521', jwkCurve: 'P-521', coordinateBytes: 66, hash: 'sha512', bits: 521 },
};

export interface SshPublicKey {
  type: SshKeyType;
  /** The key in SSH wire encoding (what the base64 part of the line decodes to). */
  blob: Buffer;
  comment?: string;
  bits: number;
  /** `SHA256:<unpadded base64>`, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  keyObject: KeyObject;
}

const ACCEPTED_TYPES_TEXT = 'ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of 2048 bits or more';
const HOW_TO_GET_A_PUBLIC_KEY =
  'Send the contents of your .pub file (for example ~/.ssh/id_ed25519.pub); create a key with `ssh-keygen -t ed25519` if you have none.';

const PRIVATE_KEY_MARKERS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
  /PuTTY-User-Key-File-/,
  // base64 of "openssh-key-v1\0", the start of an OpenSSH private key body pasted without its armour
  /b3BlbnNzaC1rZXktdjEA/,
];

export function isSshKeyType(value: string): value is SshKeyType {
  return (SSH_KEY_TYPES as readonly string[]).includes(value);
}

/**
 * Parses one authorized_keys-style line (`TYPE BASE64 [comment]`) submitted by a person.
 * Throws a SshPublicKeyRejectedError subclass whose message says what is wrong.
 */
export function parseSshPublicKey(text: string): SshPublicKey {
  if (typeof text !== 'string') throw new SshKeyMalformedError('A public key must be text.');
  if (PRIVATE_KEY_MARKERS.some((marker) => marker.test(text))) {
    throw new SshPrivateKeySubmittedError(
      'THIS IS A PRIVATE KEY, not a public key. Never paste or send a private key to anyone. ' +
        'If it was posted where others can read it, delete it and treat the key as compromised: create a new one. ' +
        HOW_TO_GET_A_PUBLIC_KEY,
    );
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_PUBLIC_KEY_INPUT_BYTES) {
    throw new SshKeyInputTooLargeError(
      `The text is ${size} bytes; a public key line is at most ${MAX_PUBLIC_KEY_INPUT_BYTES} bytes. ${HOW_TO_GET_A_PUBLIC_KEY}`,
    );
  }

  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.some((line) => /^---- BEGIN SSH2 PUBLIC KEY ----$/.test(line))) {
    throw new SshKeyMalformedError(
      'This is an RFC 4716 (SSH2/PuTTY) public key. Convert it with `ssh-keygen -i -f FILE` and send the one-line result.',
    );
  }
  if (lines.some((line) => /^-----BEGIN (RSA )?PUBLIC KEY-----$/.test(line))) {
    throw new SshKeyMalformedError(
      'This is a PEM public key. Convert it with `ssh-keygen -i -m PKCS8 -f FILE` and send the one-line result.',
    );
  }
  const [line, ...extraLines] = lines;
  if (line === undefined) throw new SshKeyMalformedError(`The public key is empty. ${HOW_TO_GET_A_PUBLIC_KEY}`);
  if (extraLines.length > 0) {
    throw new SshKeyMalformedError(`Send exactly one public key; this text has ${lines.length} lines.`);
  }

  const match = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (!match) {
    throw new SshKeyMalformedError(`A public key line looks like "ssh-ed25519 AAAAC3Nza… comment". ${HOW_TO_GET_A_PUBLIC_KEY}`);
  }
  const typeText = match[1] as string;
  const base64 = match[2] as string;
  const comment = match[3]?.trim();
  rejectUnacceptedTypeName(typeText);
  if (comment !== undefined && /[\u0000-\u001f\u007f]/.test(comment)) {
    throw new SshKeyMalformedError('The comment after the key contains control characters.');
  }

  const blob = decodeStrictBase64(base64);
  const reader = new SshWireReader(blob);
  let blobType: string;
  try {
    blobType = reader.text('key type');
  } catch (error) {
    throw malformedKeyData(error);
  }
  if (blobType !== typeText) {
    throw new SshKeyTypeMismatchError(
      `The line says "${typeText}" but the key data is of type "${printableTypeName(blobType)}": the line was edited or assembled from two keys.`,
    );
  }
  return decodeKeyBody(typeText as SshKeyType, blob, reader, comment || undefined);
}

/**
 * Decodes a public key from its wire blob (as found inside certificates and KRLs).
 * Applies the same acceptance rules as parseSshPublicKey.
 */
export function sshPublicKeyFromBlob(blob: Buffer, comment?: string): SshPublicKey {
  const reader = new SshWireReader(blob);
  let type: string;
  try {
    type = reader.text('key type');
  } catch (error) {
    throw malformedKeyData(error);
  }
  rejectUnacceptedTypeName(type);
  return decodeKeyBody(type as SshKeyType, blob, reader, comment);
}

/** `SHA256:<base64 without padding>` of a key blob, as ssh-keygen and sshd print it. */
export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The authorized_keys line for a parsed key: `TYPE BASE64[ comment]`. */
export function sshPublicKeyLine(key: Pick<SshPublicKey, 'type' | 'blob' | 'comment'>): string {
  return `${key.type} ${key.blob.toString('base64')}${key.comment ? ` ${key.comment}` : ''}`;
}

interface KeyObjectDescription {
  type: SshKeyType;
  blob: Buffer;
  bits: number;
}

const descriptionCache = new WeakMap<KeyObject, KeyObjectDescription>();

/**
 * The SSH type and wire blob of a Node key (public, or private: its public half).
 * Ed25519, ECDSA P-256/384/521 and RSA; throws TypeError for anything else.
 */
export function describeKeyObject(key: KeyObject): KeyObjectDescription {
  const cached = descriptionCache.get(key);
  if (cached) return cached;
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.type !== 'public') throw new TypeError('a secret key is not an SSH key');
  const jwk = publicKey.export({ format: 'jwk' });
  const description = describeJwk(jwk, publicKey.asymmetricKeyType);
  descriptionCache.set(key, description);
  return description;
}

/** The SSH wire blob of a Node key (for a CA key: the "signature key" of certificates and KRL sections). */
export function sshPublicKeyBlob(key: KeyObject): Buffer {
  return describeKeyObject(key).blob;
}

/** The OpenSSH public key line of a Node key, e.g. a CA key for `TrustedUserCAKeys`. */
export function sshPublicKeyFromKeyObject(key: KeyObject, comment?: string): string {
  if (comment !== undefined && /[\u0000-\u001f\u007f]/.test(comment)) {
    throw new TypeError('an SSH public key comment cannot contain control characters');
  }
  const { type, blob } = describeKeyObject(key);
  return sshPublicKeyLine({ type, blob, comment: comment?.trim() || undefined });
}

function describeJwk(jwk: JsonWebKey, keyType: string | undefined): KeyObjectDescription {
  if (keyType === 'ed25519' && typeof jwk.x === 'string') {
    const blob = new SshWireWriter(64).string('ssh-ed25519').string(Buffer.from(jwk.x, 'base64url')).toBuffer();
    return { type: 'ssh-ed25519', blob, bits: 256 };
  }
  if (keyType === 'ec' && typeof jwk.x === 'string' && typeof jwk.y === 'string') {
    const entry = Object.entries(ECDSA_CURVES).find(([, curve]) => curve.jwkCurve === jwk.crv);
    if (!entry) throw new TypeError(`unsupported EC curve ${jwk.crv ?? '(none)'}; use P-256, P-384 or P-521`);
    const [type, curve] = entry as [EcdsaKeyType, EcdsaCurve];
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    const blob = new SshWireWriter(256).string(type).string(curve.sshCurve).string(point).toBuffer();
    return { type, blob, bits: curve.bits };
  }
  if (keyType === 'rsa' && typeof jwk.n === 'string' && typeof jwk.e === 'string') {
    const modulus = Buffer.from(jwk.n, 'base64url');
    const blob = new SshWireWriter(modulus.length + 64)
      .string('ssh-rsa')
      .mpintFromUnsigned(Buffer.from(jwk.e, 'base64url'))
      .mpintFromUnsigned(modulus)
      .toBuffer();
    return { type: 'ssh-rsa', blob, bits: bitLength(modulus) };
  }
  throw new TypeError(`unsupported key type ${keyType ?? '(unknown)'}; use Ed25519, ECDSA P-256/384/521 or RSA`);
}

function rejectUnacceptedTypeName(typeName: string): asserts typeName is SshKeyType {
  if (isSshKeyType(typeName)) return;
  if (typeName.endsWith('-cert-v01@openssh.com')) {
    throw new SshKeyIsCertificateError(
      'This is an SSH certificate, not a public key. Send the plain public key (the .pub file without "-cert" in its name).',
    );
  }
  if (typeName === 'ssh-dss') {
    throw new SshKeyTypeUnsupportedError(
      `DSA (ssh-dss) keys are weak and disabled in OpenSSH; create a new key with \`ssh-keygen -t ed25519\`. Accepted: ${ACCEPTED_TYPES_TEXT}.`,
    );
  }
  if (typeName.startsWith('sk-')) {
    throw new SshKeyTypeUnsupportedError(
      `Security-key (FIDO, "${printableTypeName(typeName)}") keys are not supported yet. Accepted: ${ACCEPTED_TYPES_TEXT}.`,
    );
  }
  if (/^AAAA[A-Za-z0-9+/]{16,}={0,2}$/.test(typeName)) {
    throw new SshKeyMalformedError(`The key type is missing before the key data. ${HOW_TO_GET_A_PUBLIC_KEY}`);
  }
  throw new SshKeyTypeUnsupportedError(
    `"${printableTypeName(typeName)}" is not an accepted key type. Accepted: ${ACCEPTED_TYPES_TEXT}.`,
  );
}

function decodeStrictBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new SshKeyMalformedError('The key data is not valid base64: the key was cut off or altered while copying.');
  }
  return Buffer.from(text, 'base64');
}

function decodeKeyBody(type: SshKeyType, blob: Buffer, reader: SshWireReader, comment: string | undefined): SshPublicKey {
  let decoded: { keyObject: KeyObject; bits: number };
  try {
    decoded = decodeKeyFields(type, reader);
    reader.end('The key data');
  } catch (error) {
    throw malformedKeyData(error);
  }
  const key: SshPublicKey = {
    type,
    blob: Buffer.from(blob),
    bits: decoded.bits,
    fingerprint: sshFingerprint(blob),
    keyObject: decoded.keyObject,
  };
  if (comment !== undefined) key.comment = comment;
  return key;
}

function decodeKeyFields(type: SshKeyType, reader: SshWireReader): { keyObject: KeyObject; bits: number } {
  switch (type) {
    case 'ssh-ed25519': {
      const publicKey = reader.string('Ed25519 public key');
      if (publicKey.length !== 32) throw new SshWireFormatError('an Ed25519 public key is 32 bytes');
      const problem = ed25519PointProblem(publicKey);
      if (problem === 'not-on-curve') throw new SshWireFormatError('the Ed25519 key is not a point of the curve');
      if (problem !== undefined) {
        throw new SshKeyDegenerateError(`${ed25519PointProblemText(problem)} Create a key with \`ssh-keygen -t ed25519\` and send its .pub file.`);
      }
      return { keyObject: jwkPublicKey({ kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }), bits: 256 };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curve = ECDSA_CURVES[type];
      const curveName = reader.text('curve name');
      if (curveName !== curve.sshCurve) throw new SshWireFormatError(`the curve is ${curveName}, not ${curve.sshCurve}`);
      const point = reader.string('EC point');
      if (point.length !== 1 + 2 * curve.coordinateBytes || point[0] !== 4) {
        throw new SshWireFormatError('the EC point is not an uncompressed point of the curve');
      }
      const x = point.subarray(1, 1 + curve.coordinateBytes).toString('base64url');
      const y = point.subarray(1 + curve.coordinateBytes).toString('base64url');
      return { keyObject: jwkPublicKey({ kty: 'EC', crv: curve.jwkCurve, x, y }), bits: curve.bits };
    }
    case 'ssh-rsa': {
      const exponent = reader.unsignedMpint('RSA exponent');
      const modulus = reader.unsignedMpint('RSA modulus');
      const bits = bitLength(modulus);
      if (exponent.length === 0 || exponent.length > 8 || ((exponent[exponent.length - 1] as number) & 1) === 0 || bitLength(exponent) < 2) {
        throw new SshWireFormatError('the RSA public exponent is invalid');
      }
      if (bits < MIN_RSA_BITS) {
        throw new SshKeyTooWeakError(
          `This RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required. Create a new key with \`ssh-keygen -t ed25519\` (or \`ssh-keygen -t rsa -b 3072\`).`,
        );
      }
      if (bits > MAX_RSA_BITS) {
        throw new SshKeyTypeUnsupportedError(`This RSA key has ${bits} bits; OpenSSH accepts at most ${MAX_RSA_BITS}.`);
      }
      const keyObject = jwkPublicKey({ kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') });
      return { keyObject, bits };
    }
  }
}

function jwkPublicKey(jwk: JsonWebKey): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new SshWireFormatError('the key material is not a valid public key', { cause });
  }
}

function malformedKeyData(error: unknown): Error {
  if (!(error instanceof SshWireFormatError)) return error instanceof Error ? error : new Error(String(error));
  return new SshKeyMalformedError(`The key data is corrupt (${error.message}): copy the whole line from the .pub file again.`, {
    cause: error,
  });
}

function printableTypeName(name: string): string {
  return /^[A-Za-z0-9@._+-]{1,64}$/.test(name) ? name : '(unreadable)';
}

function bitLength(magnitude: Buffer): number {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  if (start === magnitude.length) return 0;
  return (magnitude.length - start - 1) * 8 + (32 - Math.clz32(magnitude[start] as number));
}
