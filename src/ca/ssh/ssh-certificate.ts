import { randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { SshCertificateInvalidError } from './errors/ssh-certificate-invalid-error';
import { SshCertificateRequestInvalidError } from './errors/ssh-certificate-request-invalid-error';
import { SshPublicKeyRejectedError } from './errors/ssh-public-key-rejected-error';
import { SshWireFormatError } from './errors/ssh-wire-format-error';
import { isSshKeyType, sshPublicKeyFromBlob, SSH_KEY_TYPES, type SshKeyType, type SshPublicKey } from './ssh-public-key';
import { sshCaSigner, verifySshSignature, type SshSignatureAlgorithm } from './ssh-signature';
import { SshWireReader, SshWireWriter } from './ssh-wire';

/** OpenSSH user certificates (PROTOCOL.certkeys): signing, and decoding with signature verification. */

export const SSH_CERT_TYPE_USER = 1;
export const SSH_CERT_TYPE_HOST = 2;
/** OpenSSH's limit on principals per certificate (SSHKEY_CERT_MAX_PRINCIPALS). */
export const MAX_SSH_CERT_PRINCIPALS = 256;

const CERT_TYPE_SUFFIX = '-cert-v01@openssh.com';
export type SshCertificateKeyType = `${SshKeyType}${typeof CERT_TYPE_SUFFIX}`;
const UINT64_MAX = (1n << 64n) - 1n;
const MAX_KEY_ID_LENGTH = 1024;
const MAX_CERTIFICATE_LINE_BYTES = 64 * 1024;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export interface SshCertificateAuthorityKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface SshCriticalOptions {
  /** Command sshd runs instead of the one the client asks for. */
  forceCommand?: string;
  /** Client addresses or CIDR blocks the certificate may be used from. */
  sourceAddress?: string[];
}

export interface SshUserCertificateRequest {
  publicKey: SshPublicKey;
  ca: SshCertificateAuthorityKeys;
  /** Unique per CA, 1 to 2^64-1 (0 means "no serial" and cannot be revoked by serial). */
  serial: bigint;
  keyId: string;
  /** Never empty: sshd treats an empty list as "any user" for host certs and refuses user certs without one. */
  principals: string[];
  /** Epoch ms; encoded as whole seconds (rounded down). */
  validAfter: number;
  /** Epoch ms; encoded as whole seconds (rounded down). */
  validBefore: number;
  criticalOptions?: SshCriticalOptions;
  /** Extension names (permit-pty, …); encoded sorted, with empty data. */
  extensions: string[];
  /** Defaults to 32 random bytes. */
  nonce?: Buffer;
}

export interface SignedSshCertificate {
  /** `<type>-cert-v01@openssh.com <base64> <key id>`: the content of an `id_*-cert.pub` file. */
  line: string;
  blob: Buffer;
  certType: SshCertificateKeyType;
  serial: bigint;
  keyId: string;
  principals: string[];
  /** Epoch ms as encoded (whole seconds). */
  validAfter: number;
  /** Epoch ms as encoded (whole seconds). */
  validBefore: number;
  criticalOptions: SshCriticalOptions;
  extensions: string[];
  /** Fingerprint of the certified user key (what sshd logs for the certificate). */
  fingerprint: string;
  caFingerprint: string;
}

export interface ParsedSshCertificate {
  line: string;
  blob: Buffer;
  certType: SshCertificateKeyType;
  /** The certified key. */
  publicKey: SshPublicKey;
  nonce: Buffer;
  serial: bigint;
  kind: 'user' | 'host';
  keyId: string;
  principals: string[];
  /** Epoch ms; Infinity for OpenSSH's "forever". */
  validAfter: number;
  /** Epoch ms; Infinity for OpenSSH's "forever". */
  validBefore: number;
  criticalOptions: SshCriticalOptions;
  /** Names of critical options this code does not know (sshd refuses such certificates). */
  unknownCriticalOptions: string[];
  extensions: string[];
  /** The CA key that signed the certificate (its signature was verified). */
  ca: SshPublicKey;
  signatureAlgorithm: SshSignatureAlgorithm;
  fingerprint: string;
  caFingerprint: string;
  comment?: string;
}

export function certificateTypeFor(keyType: SshKeyType): SshCertificateKeyType {
  return `${keyType}${CERT_TYPE_SUFFIX}`;
}

/** Signs an OpenSSH user certificate (type 1) for `input.publicKey` with the CA key. */
export function signSshUserCertificate(input: SshUserCertificateRequest): SignedSshCertificate {
  const fields = checkRequest(input);
  const signer = sshCaSigner(input.ca.privateKey, input.ca.publicKey);
  const { publicKey } = input;
  const certType = certificateTypeFor(publicKey.type);
  // The certificate repeats the key's own fields after its type name, byte for byte.
  const keyTypeFieldLength = 4 + publicKey.blob.readUInt32BE(0);

  const body = new SshWireWriter(publicKey.blob.length + 512)
    .string(certType)
    .string(input.nonce ?? freshNonce())
    .raw(publicKey.blob.subarray(keyTypeFieldLength))
    .uint64(input.serial)
    .uint32(SSH_CERT_TYPE_USER)
    .string(input.keyId)
    .nested((w) => {
      for (const principal of fields.principals) w.string(principal);
    })
    .uint64(fields.validAfterSeconds)
    .uint64(fields.validBeforeSeconds)
    .nested((w) => {
      for (const [name, value] of fields.criticalOptions) w.string(name).nested((data) => data.string(value));
    })
    .nested((w) => {
      for (const name of fields.extensions) w.string(name).uint32(0);
    })
    .string('')
    .string(signer.publicKeyBlob);
  const signature = signer.signatureBytes(body.view());
  const blob = body
    .nested((w) => w.string(signer.algorithm).string(signature))
    .toBuffer();

  return {
    line: `${certType} ${blob.toString('base64')} ${input.keyId}`,
    blob,
    certType,
    serial: input.serial,
    keyId: input.keyId,
    principals: fields.principals,
    validAfter: Number(fields.validAfterSeconds) * 1000,
    validBefore: Number(fields.validBeforeSeconds) * 1000,
    criticalOptions: fields.knownCriticalOptions,
    extensions: fields.extensions,
    fingerprint: publicKey.fingerprint,
    caFingerprint: signer.fingerprint,
  };
}

const NONCE_LENGTH = 32;
let noncePool = Buffer.alloc(0);
let noncePoolOffset = 0;

/** 32 random bytes; drawn from a pool refilled 256 nonces at a time (one randomBytes call each costs ~8% of a signature). */
function freshNonce(): Buffer {
  if (noncePoolOffset + NONCE_LENGTH > noncePool.length) {
    noncePool = randomBytes(NONCE_LENGTH * 256);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.subarray(noncePoolOffset, noncePoolOffset + NONCE_LENGTH);
  noncePoolOffset += NONCE_LENGTH;
  return nonce;
}

interface CheckedFields {
  principals: string[];
  validAfterSeconds: bigint;
  validBeforeSeconds: bigint;
  criticalOptions: [string, string][];
  knownCriticalOptions: SshCriticalOptions;
  extensions: string[];
}

function checkRequest(input: SshUserCertificateRequest): CheckedFields {
  const invalid = (message: string) => new SshCertificateRequestInvalidError(message);
  if (!input.publicKey || !isSshKeyType(input.publicKey.type) || !Buffer.isBuffer(input.publicKey.blob)) {
    throw invalid('The certificate needs a parsed SSH public key.');
  }
  if (typeof input.serial !== 'bigint' || input.serial < 1n || input.serial > UINT64_MAX) {
    throw invalid('The certificate serial must be between 1 and 2^64-1 (0 cannot be revoked by serial).');
  }
  if (typeof input.keyId !== 'string' || input.keyId.length === 0 || input.keyId.length > MAX_KEY_ID_LENGTH) {
    throw invalid(`The key id must be 1 to ${MAX_KEY_ID_LENGTH} characters.`);
  }
  if (CONTROL_CHARACTERS.test(input.keyId)) throw invalid('The key id cannot contain control characters.');

  if (!Array.isArray(input.principals) || input.principals.length === 0) {
    throw invalid('A certificate needs at least one principal: sshd refuses a user certificate without one.');
  }
  const principals = [...new Set(input.principals)];
  if (principals.length > MAX_SSH_CERT_PRINCIPALS) throw invalid(`At most ${MAX_SSH_CERT_PRINCIPALS} principals.`);
  for (const principal of principals) {
    if (typeof principal !== 'string' || !/^[^\s,\u0000-\u001f\u007f]+$/.test(principal)) {
      throw invalid('A principal must be a non-empty name without spaces, commas or control characters.');
    }
  }

  const validAfterSeconds = toEpochSeconds(input.validAfter, 'validAfter');
  const validBeforeSeconds = toEpochSeconds(input.validBefore, 'validBefore');
  if (validAfterSeconds >= validBeforeSeconds) {
    throw invalid('The validity window is empty: validBefore must be at least one second after validAfter.');
  }

  const criticalOptions: [string, string][] = [];
  const knownCriticalOptions: SshCriticalOptions = {};
  const { forceCommand, sourceAddress } = input.criticalOptions ?? {};
  if (forceCommand !== undefined) {
    if (typeof forceCommand !== 'string' || forceCommand.trim() === '' || /[\u0000\r\n]/.test(forceCommand)) {
      throw invalid('force-command must be a non-empty command on one line.');
    }
    criticalOptions.push(['force-command', forceCommand]);
    knownCriticalOptions.forceCommand = forceCommand;
  }
  if (sourceAddress !== undefined) {
    if (!Array.isArray(sourceAddress) || sourceAddress.length === 0) {
      throw invalid('source-address needs at least one address or CIDR block.');
    }
    for (const address of sourceAddress) {
      if (!isAddressOrCidr(address)) throw invalid(`source-address "${String(address).slice(0, 60)}" is not an IP address or CIDR block.`);
    }
    criticalOptions.push(['source-address', sourceAddress.join(',')]);
    knownCriticalOptions.sourceAddress = [...sourceAddress];
  }
  // OpenSSH wants options sorted by strcmp; for these ASCII names that is JS string order.
  criticalOptions.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  if (!Array.isArray(input.extensions)) throw invalid('extensions must be a list of names.');
  const extensions = [...new Set(input.extensions)];
  for (const name of extensions) {
    if (typeof name !== 'string' || !/^[A-Za-z0-9@._-]{1,128}$/.test(name)) {
      throw invalid(`"${String(name).slice(0, 60)}" is not a certificate extension name.`);
    }
  }
  extensions.sort();
  if (input.nonce !== undefined && (!Buffer.isBuffer(input.nonce) || input.nonce.length < 16 || input.nonce.length > 64)) {
    throw invalid('The nonce must be 16 to 64 bytes.');
  }
  return { principals, validAfterSeconds, validBeforeSeconds, criticalOptions, knownCriticalOptions, extensions };
}

function toEpochSeconds(epochMs: number, name: string): bigint {
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs) || epochMs < 0) {
    throw new SshCertificateRequestInvalidError(`${name} must be a time in epoch milliseconds.`);
  }
  return BigInt(Math.floor(epochMs / 1000));
}

function isAddressOrCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(value);
  if (!match) return false;
  const version = isIP(match[1] as string);
  if (version === 0) return false;
  if (match[2] === undefined) return true;
  return Number(match[2]) <= (version === 4 ? 32 : 128);
}

/**
 * Decodes an OpenSSH certificate line (`<type>-cert-v01@openssh.com <base64> [comment]`) and
 * verifies its CA signature. It does not decide whether the CA is trusted or the window current:
 * compare `caFingerprint` and the validity with what you expect.
 */
export function parseSshCertificate(line: string): ParsedSshCertificate {
  const invalid = (message: string, cause?: unknown) =>
    new SshCertificateInvalidError(message, cause === undefined ? undefined : { cause });
  if (typeof line !== 'string') throw invalid('A certificate must be text.');
  if (Buffer.byteLength(line, 'utf8') > MAX_CERTIFICATE_LINE_BYTES) throw invalid('The certificate text is too large.');
  const match = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(line.trim());
  if (!match || (match[2] as string).length % 4 !== 0) {
    throw invalid('A certificate line looks like "ssh-ed25519-cert-v01@openssh.com AAAA… comment".');
  }
  const certTypeText = match[1] as string;
  const keyType = certTypeText.endsWith(CERT_TYPE_SUFFIX) ? certTypeText.slice(0, -CERT_TYPE_SUFFIX.length) : '';
  if (!isSshKeyType(keyType)) {
    throw invalid(`Not a supported certificate type (expected one of ${SSH_KEY_TYPES.map(certificateTypeFor).join(', ')}).`);
  }
  const blob = Buffer.from(match[2] as string, 'base64');
  const certType = certificateTypeFor(keyType);

  try {
    const reader = new SshWireReader(blob);
    if (reader.text('certificate type') !== certType) throw invalid('The certificate data does not match its type name.');
    const nonce = Buffer.from(reader.string('nonce'));
    const keyFieldsStart = reader.position;
    const keyFieldCount = keyType === 'ssh-ed25519' ? 1 : 2;
    for (let i = 0; i < keyFieldCount; i++) reader.string('key field');
    const keyBlob = Buffer.concat([
      new SshWireWriter(64).string(keyType).toBuffer(),
      blob.subarray(keyFieldsStart, reader.position),
    ]);
    const publicKey = sshPublicKeyFromBlob(keyBlob);

    const serial = reader.uint64();
    const kindCode = reader.uint32();
    if (kindCode !== SSH_CERT_TYPE_USER && kindCode !== SSH_CERT_TYPE_HOST) throw invalid(`Unknown certificate kind ${kindCode}.`);
    const keyId = reader.text('key id');
    const principalReader = new SshWireReader(reader.string('principals'));
    const principals: string[] = [];
    while (principalReader.remaining > 0) principals.push(principalReader.text('principal'));
    const validAfter = secondsToEpochMs(reader.uint64());
    const validBefore = secondsToEpochMs(reader.uint64());

    const criticalOptions: SshCriticalOptions = {};
    const unknownCriticalOptions: string[] = [];
    for (const [name, data] of readOptions(reader.string('critical options'))) {
      const value = new SshWireReader(data);
      if (name === 'force-command') {
        criticalOptions.forceCommand = value.text('force-command');
        value.end('force-command');
      } else if (name === 'source-address') {
        criticalOptions.sourceAddress = value.text('source-address').split(',');
        value.end('source-address');
      } else {
        unknownCriticalOptions.push(name);
      }
    }
    const extensions = readOptions(reader.string('extensions')).map(([name]) => name);
    reader.string('reserved');
    const caBlob = Buffer.from(reader.string('signature key'));
    const signedLength = reader.position;
    const signature = reader.string('signature');
    reader.end('The certificate');

    let ca: SshPublicKey;
    try {
      ca = sshPublicKeyFromBlob(caBlob);
    } catch (cause) {
      throw invalid('The certificate names a CA key of an unsupported kind.', cause);
    }
    const { valid, algorithm } = verifySshSignature(ca, blob.subarray(0, signedLength), signature);
    if (!valid) throw invalid('The certificate signature does not verify: it was altered, or not signed by the CA it names.');

    const parsed: ParsedSshCertificate = {
      line: line.trim(),
      blob,
      certType,
      publicKey,
      nonce,
      serial,
      kind: kindCode === SSH_CERT_TYPE_USER ? 'user' : 'host',
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      unknownCriticalOptions,
      extensions,
      ca,
      signatureAlgorithm: algorithm,
      fingerprint: publicKey.fingerprint,
      caFingerprint: ca.fingerprint,
    };
    if (match[3]) parsed.comment = match[3].trim();
    return parsed;
  } catch (error) {
    if (error instanceof SshCertificateInvalidError) throw error;
    if (error instanceof SshWireFormatError || error instanceof SshPublicKeyRejectedError) {
      throw invalid(`The certificate data is corrupt or unsupported: ${error.message}`, error);
    }
    throw error;
  }
}

function readOptions(data: Buffer): [string, Buffer][] {
  const reader = new SshWireReader(data);
  const options: [string, Buffer][] = [];
  while (reader.remaining > 0) options.push([reader.text('option name'), reader.string('option data')]);
  return options;
}

function secondsToEpochMs(seconds: bigint): number {
  const ms = Number(seconds) * 1000;
  return Number.isSafeInteger(ms) ? ms : Number.POSITIVE_INFINITY;
}
