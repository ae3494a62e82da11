import { sign, verify, type KeyObject } from 'node:crypto';
import { SshCaKeyUnsupportedError } from './errors/ssh-ca-key-unsupported-error';
import { SshWireFormatError } from './errors/ssh-wire-format-error';
import { describeKeyObject, ECDSA_CURVES, MIN_RSA_BITS, sshFingerprint, type SshKeyType, type SshPublicKey } from './ssh-public-key';
import { SshWireReader, SshWireWriter } from './ssh-wire';

/** SSH signatures (RFC 8709 Ed25519, RFC 5656 ECDSA, RFC 8332 RSA/SHA-2) made and checked with Node's crypto. */

export type SshSignatureAlgorithm =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'rsa-sha2-256'
  | 'rsa-sha2-512';

/** A CA private key ready to sign: its public blob and fingerprint are computed once. */
export interface SshCaSigner {
  keyType: SshKeyType;
  algorithm: SshSignatureAlgorithm;
  publicKeyBlob: Buffer;
  fingerprint: string;
  /** Signs `data` and returns the SSH signature encoding (string algorithm, string signature). */
  sign(data: Buffer): Buffer;
  /** Signs `data` and returns only the algorithm-specific signature bytes (the inner string). */
  signatureBytes(data: Buffer): Buffer;
}

const signerCache = new WeakMap<KeyObject, SshCaSigner>();

/**
 * The signer for a CA private key. When `publicKey` is given it must be the private key's own
 * public half (certificates name it as their signing CA; a mismatch would make every one unverifiable).
 */
export function sshCaSigner(privateKey: KeyObject, publicKey?: KeyObject): SshCaSigner {
  let signer = signerCache.get(privateKey);
  if (!signer) {
    signer = createSigner(privateKey);
    signerCache.set(privateKey, signer);
  }
  if (publicKey !== undefined) {
    let publicBlob: Buffer;
    try {
      publicBlob = describeKeyObject(publicKey).blob;
    } catch (cause) {
      throw new SshCaKeyUnsupportedError('The SSH CA public key is not an Ed25519, ECDSA or RSA key.', { cause });
    }
    if (!publicBlob.equals(signer.publicKeyBlob)) {
      throw new SshCaKeyUnsupportedError('The SSH CA public key does not belong to the CA private key.');
    }
  }
  return signer;
}

function createSigner(privateKey: KeyObject): SshCaSigner {
  if (privateKey.type !== 'private') throw new SshCaKeyUnsupportedError('The SSH CA signing key must be a private key.');
  let description: ReturnType<typeof describeKeyObject>;
  try {
    description = describeKeyObject(privateKey);
  } catch (cause) {
    throw new SshCaKeyUnsupportedError('The SSH CA key must be Ed25519, ECDSA (P-256, P-384, P-521) or RSA.', { cause });
  }
  const { type, blob } = description;
  const signer = (algorithm: SshSignatureAlgorithm, signatureBytes: (data: Buffer) => Buffer): SshCaSigner => ({
    keyType: type,
    algorithm,
    publicKeyBlob: blob,
    fingerprint: sshFingerprint(blob),
    signatureBytes,
    sign: (data) => {
      const signature = signatureBytes(data);
      return new SshWireWriter(signature.length + 64).string(algorithm).string(signature).toBuffer();
    },
  });
  switch (type) {
    case 'ssh-ed25519':
      return signer('ssh-ed25519', (data) => sign(null, data, privateKey));
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curve = ECDSA_CURVES[type];
      return signer(type, (data) => {
        const rs = sign(curve.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        return new SshWireWriter(160)
          .mpintFromUnsigned(rs.subarray(0, curve.coordinateBytes))
          .mpintFromUnsigned(rs.subarray(curve.coordinateBytes))
          .toBuffer();
      });
    }
    case 'ssh-rsa':
      if (description.bits < MIN_RSA_BITS) {
        throw new SshCaKeyUnsupportedError(`An RSA CA key needs at least ${MIN_RSA_BITS} bits (this one has ${description.bits}).`);
      }
      // sshd 8.8+ refuses SHA-1 ("ssh-rsa") signatures, so an RSA CA always signs with SHA-512.
      return signer('rsa-sha2-512', (data) => sign('sha512', data, privateKey));
  }
}

/**
 * Checks an SSH signature encoding made by `signer` over `data`. Returns the algorithm when the
 * signature verifies; throws SshWireFormatError for malformed data or an algorithm sshd refuses.
 */
export function verifySshSignature(signer: SshPublicKey, data: Buffer, signatureBlob: Buffer): { valid: boolean; algorithm: SshSignatureAlgorithm } {
  const reader = new SshWireReader(signatureBlob);
  const algorithm = reader.text('signature algorithm');
  const signature = reader.string('signature');
  reader.end('The signature');

  switch (signer.type) {
    case 'ssh-ed25519':
      if (algorithm !== 'ssh-ed25519') break;
      if (signature.length !== 64) throw new SshWireFormatError('an Ed25519 signature is 64 bytes');
      return { valid: verify(null, data, signer.keyObject, signature), algorithm };
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      if (algorithm !== signer.type) break;
      const curve = ECDSA_CURVES[signer.type];
      const inner = new SshWireReader(signature);
      const r = inner.unsignedMpint('ECDSA r');
      const s = inner.unsignedMpint('ECDSA s');
      inner.end('The ECDSA signature');
      if (r.length > curve.coordinateBytes || s.length > curve.coordinateBytes) {
        throw new SshWireFormatError('an ECDSA signature value is larger than the curve');
      }
      const rs = Buffer.concat([leftPad(r, curve.coordinateBytes), leftPad(s, curve.coordinateBytes)]);
      return { valid: verify(curve.hash, data, { key: signer.keyObject, dsaEncoding: 'ieee-p1363' }, rs), algorithm };
    }
    case 'ssh-rsa': {
      if (algorithm === 'ssh-rsa') {
        throw new SshWireFormatError('the signature uses ssh-rsa (SHA-1), which sshd refuses');
      }
      if (algorithm !== 'rsa-sha2-256' && algorithm !== 'rsa-sha2-512') break;
      const modulusBytes = Math.ceil(signer.bits / 8);
      if (signature.length > modulusBytes) throw new SshWireFormatError('the RSA signature is longer than the modulus');
      const hash = algorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256';
      return { valid: verify(hash, data, signer.keyObject, leftPad(signature, modulusBytes)), algorithm };
    }
  }
  throw new SshWireFormatError(`a ${signer.type} key cannot make a "${algorithm.slice(0, 64)}" signature`);
}

function leftPad(bytes: Buffer, length: number): Buffer {
  if (bytes.length >= length) return bytes;
  return Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}
