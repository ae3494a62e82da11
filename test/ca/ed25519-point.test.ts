import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ed25519PointProblem } from '../../src/ca/ed25519-point';
import { NON_CANONICAL_ENCODINGS, ORDINARY_POINT_HEX, TORSION_POINTS } from './degenerate-ed25519-keys';

describe('ed25519PointProblem', () => {
  it('finds nothing wrong with keys Node generates', () => {
    for (let i = 0; i < 64; i++) {
      const { publicKey } = generateKeyPairSync('ed25519');
      const x = publicKey.export({ format: 'jwk' }).x ?? '';
      expect(ed25519PointProblem(Buffer.from(x, 'base64url'))).toBeUndefined();
    }
    expect(ed25519PointProblem(Buffer.from(ORDINARY_POINT_HEX, 'hex'))).toBeUndefined();
  });

  it.each(TORSION_POINTS.map((k) => [k.label, k.hex]))('%s is of small order', (_label, hex) => {
    expect(ed25519PointProblem(Buffer.from(hex, 'hex'))).toBe('small-order');
  });

  it.each(NON_CANONICAL_ENCODINGS.map((k) => [k.label, k.hex]))('%s is not canonical', (_label, hex) => {
    expect(ed25519PointProblem(Buffer.from(hex, 'hex'))).toBe('non-canonical');
  });

  it('every y from p to 2^255 - 1 is non-canonical, whatever the sign bit', () => {
    for (let k = 0n; k < 19n; k++) {
      const bytes = Buffer.alloc(32);
      let v = (1n << 255n) - 19n + k;
      for (let i = 0; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
      expect(ed25519PointProblem(bytes)).toBe('non-canonical');
      bytes[31] = (bytes[31] as number) | 0x80;
      expect(ed25519PointProblem(bytes)).toBe('non-canonical');
    }
  });

  it('tells points off the curve and wrong lengths apart', () => {
    expect(ed25519PointProblem(Buffer.from(`02${'00'.repeat(31)}`, 'hex'))).toBe('not-on-curve');
    expect(ed25519PointProblem(randomBytes(31))).toBe('length');
    // About half of all y values have no x; over 200 random tries both outcomes turn up.
    const seen = new Set(Array.from({ length: 200 }, () => ed25519PointProblem(randomBytes(32).fill(0, 31, 32))));
    expect(seen).toEqual(new Set([undefined, 'not-on-curve']));
  });
});
