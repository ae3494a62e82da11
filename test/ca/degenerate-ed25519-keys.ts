import { createHash } from 'node:crypto';
import { SshWireWriter } from '../../src/ca/ssh/ssh-wire';

/**
 * Ed25519 public key encodings no key generator produces, for which signatures can be forged.
 * The eight small-order points are the published list (libsodium's and Go's blocklists), written
 * out here rather than computed, so the tests do not share arithmetic with the code under test.
 */
export interface DegenerateEd25519Key {
  label: string;
  hex: string;
  /** Order of the point the bytes decode to under OpenSSH's lenient decoding (it reduces y mod p and ignores the sign of x = 0). */
  order: 1 | 2 | 4 | 8 | 'large';
  kind: 'small-order' | 'non-canonical';
}

export const TORSION_POINTS: readonly DegenerateEd25519Key[] = [
  { label: 'identity (order 1)', hex: '0100000000000000000000000000000000000000000000000000000000000000', order: 1, kind: 'small-order' },
  { label: 'y = -1 (order 2)', hex: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', order: 2, kind: 'small-order' },
  { label: 'all-zero key (order 4)', hex: '0000000000000000000000000000000000000000000000000000000000000000', order: 4, kind: 'small-order' },
  { label: 'y = 0, x negative (order 4)', hex: '0000000000000000000000000000000000000000000000000000000000000080', order: 4, kind: 'small-order' },
  { label: 'order 8 (a)', hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', order: 8, kind: 'small-order' },
  { label: 'order 8 (b)', hex: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', order: 8, kind: 'small-order' },
  { label: 'order 8 (c)', hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', order: 8, kind: 'small-order' },
  { label: 'order 8 (d)', hex: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', order: 8, kind: 'small-order' },
];

export const NON_CANONICAL_ENCODINGS: readonly DegenerateEd25519Key[] = [
  { label: 'identity with the sign bit set ("negative zero")', hex: '0100000000000000000000000000000000000000000000000000000000000080', order: 1, kind: 'non-canonical' },
  { label: 'y = -1 with the sign bit set ("negative zero")', hex: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', order: 2, kind: 'non-canonical' },
  { label: 'y = p (the all-zero key again)', hex: 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', order: 4, kind: 'non-canonical' },
  { label: 'y = p + 1 (the identity again)', hex: 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', order: 1, kind: 'non-canonical' },
  // y = 3 is a point of large order; p + 3 encodes it a second way.
  { label: 'y = p + 3 (an ordinary point, encoded a second way)', hex: 'f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', order: 'large', kind: 'non-canonical' },
];

export const DEGENERATE_ED25519_KEYS: readonly DegenerateEd25519Key[] = [...TORSION_POINTS, ...NON_CANONICAL_ENCODINGS];

/** The canonical encoding of y = 3: an ordinary point, accepted (nobody knows its private key, but nobody can forge for it either). */
export const ORDINARY_POINT_HEX = '0300000000000000000000000000000000000000000000000000000000000000';

export function ed25519Blob(hex: string): Buffer {
  return new SshWireWriter(64).string('ssh-ed25519').string(Buffer.from(hex, 'hex')).toBuffer();
}

/** The authorized_keys line a person would paste for these 32 bytes. */
export function ed25519Line(hex: string, comment = 'crafted'): string {
  return `ssh-ed25519 ${ed25519Blob(hex).toString('base64')} ${comment}`;
}

/** `SHA256:…` of the SSH blob, as ssh-keygen prints it. */
export function ed25519SshFingerprint(hex: string): string {
  return `SHA256:${createHash('sha256').update(ed25519Blob(hex)).digest('base64').replace(/=+$/, '')}`;
}

/** A PEM SubjectPublicKeyInfo (RFC 8410) for these 32 bytes. */
export function ed25519SpkiPem(hex: string): string {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}
