/**
 * Ed25519 public key validation with plain BigInt arithmetic (RFC 8032).
 *
 * OpenSSL and OpenSSH load any 32 bytes as an Ed25519 public key. For a small-order point (the
 * identity, the all-zero key and the other six points of the 8-torsion subgroup) a signature can
 * be forged without a private key: with A of order n, R = identity and S = 0 verify whenever the
 * hash h satisfies h·A = identity (always for the identity, one time in n otherwise). A
 * certificate for such a key is a bearer token for whoever reads it. Non-canonical encodings are
 * refused as well: no key generator makes them, and OpenSSH reduces y mod p, so `y = p + 1` is
 * the identity under another name.
 */

export type Ed25519PointProblem =
  /** Not 32 bytes. */
  | 'length'
  /** y >= p, or x = 0 with the sign bit set ("negative zero"). */
  | 'non-canonical'
  /** No curve point has this y. */
  | 'not-on-curve'
  /** [8]P is the identity: P lies in the torsion subgroup of order 1, 2, 4 or 8. */
  | 'small-order';

const P = (1n << 255n) - 19n;
const D = mod(-121665n * inverse(121666n));
/** A square root of -1 mod p: 2^((p-1)/4). */
const SQRT_M1 = power(2n, (P - 1n) / 4n);

type ExtendedPoint = { x: bigint; y: bigint; z: bigint; t: bigint };

/** What is wrong with the key, in words for the person who sent it (without advice on what to do instead). */
export function ed25519PointProblemText(problem: Ed25519PointProblem): string {
  switch (problem) {
    case 'length':
      return 'An Ed25519 public key is 32 bytes; this one is not.';
    case 'non-canonical':
      return 'This Ed25519 public key is not in canonical form: its bytes were altered or crafted, as no key generator writes a key this way.';
    case 'not-on-curve':
      return 'This Ed25519 public key is not a point of the curve: it is corrupt.';
    case 'small-order':
      return (
        'This Ed25519 public key is a degenerate point of small order (such as the all-zero key): a signature for it can be ' +
        'forged without the private key, so a certificate for it would work for anyone who reads the certificate.'
      );
  }
}

/** Why `encoded` is not an acceptable Ed25519 public key, or undefined when it is one. */
export function ed25519PointProblem(encoded: Uint8Array): Ed25519PointProblem | undefined {
  if (encoded.length !== 32) return 'length';
  const point = decode(encoded);
  if (typeof point === 'string') return point;
  let multiple = point;
  for (let i = 0; i < 3; i++) multiple = add(multiple, multiple);
  return isIdentity(multiple) ? 'small-order' : undefined;
}

/** RFC 8032 section 5.1.3, strict: y must be below p and x = 0 must come with sign bit 0. */
function decode(encoded: Uint8Array): ExtendedPoint | 'non-canonical' | 'not-on-curve' {
  let value = 0n;
  for (let i = encoded.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(encoded[i] as number);
  const sign = value >> 255n;
  const y = value & ((1n << 255n) - 1n);
  if (y >= P) return 'non-canonical';

  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (((v * v) % P) * v) % P;
  const v7 = (((v3 * v3) % P) * v) % P;
  let x = (((u * v3) % P) * power((u * v7) % P, (P - 5n) / 8n)) % P;
  const vx2 = (v * ((x * x) % P)) % P;
  if (vx2 === u) {
    // x is a square root of u/v
  } else if (vx2 === mod(-u)) {
    x = (x * SQRT_M1) % P;
  } else {
    return 'not-on-curve';
  }
  if (x === 0n && sign === 1n) return 'non-canonical';
  if ((x & 1n) !== sign) x = P - x;
  return { x, y, z: 1n, t: (x * y) % P };
}

/** Point addition in extended coordinates (RFC 8032 section 5.1.4); complete, so it doubles too. */
function add(p: ExtendedPoint, q: ExtendedPoint): ExtendedPoint {
  const a = mod((p.y - p.x) * (q.y - q.x));
  const b = ((p.y + p.x) * (q.y + q.x)) % P;
  const c = (((2n * p.t * q.t) % P) * D) % P;
  const d = (2n * p.z * q.z) % P;
  const e = mod(b - a);
  const f = mod(d - c);
  const g = (d + c) % P;
  const h = (b + a) % P;
  return { x: (e * f) % P, y: (g * h) % P, z: (f * g) % P, t: (e * h) % P };
}

function isIdentity(point: ExtendedPoint): boolean {
  return point.x % P === 0n && mod(point.y - point.z) === 0n;
}

function mod(value: bigint): bigint {
  const r = value % P;
  return r < 0n ? r + P : r;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function inverse(value: bigint): bigint {
  return power(value, P - 2n);
}
