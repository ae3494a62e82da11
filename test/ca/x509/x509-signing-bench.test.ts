import { benchX509Signing } from '../../../src/ca/x509/x509-signing-bench';

describe('benchX509Signing', () => {
  it('compares like with like: forge alone writes a byte-identical certificate, and both rates are reported', () => {
    const result = benchX509Signing(3, 1);
    expect(result).toMatchObject({ caKey: 'rsa2048', subjectKey: 'rsa2048', nativeIterations: 3, forgeIterations: 1, identicalOutput: true });
    expect(result.nativeCertsPerSecond).toBeGreaterThan(0);
    expect(result.forgeCertsPerSecond).toBeGreaterThan(0);
    expect(result.speedup).toBeCloseTo(result.nativeCertsPerSecond / result.forgeCertsPerSecond, 0);
  });

  it('refuses iteration counts that are not positive whole numbers', () => {
    expect(() => benchX509Signing(0)).toThrow(RangeError);
    expect(() => benchX509Signing(2.5)).toThrow(RangeError);
  });
});
