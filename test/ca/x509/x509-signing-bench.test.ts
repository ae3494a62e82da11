import { benchX509Signing } from '../../../src/ca/x509/x509-signing-bench';

describe('benchX509Signing', () => {
  it('compares like with like: forge alone writes a byte-identical certificate, and both rates are reported', () => {
    const result = benchX509Signing(3, 1);
    expect(result).toMatchObject({ caKey: 'rsa2048', subjectKey: 'rsa2048', nativeIterations: 3, forgeIterations: 1, identicalOutput: true });
    expect(result.nativeCertsPerSecond).toBeGreaterThan(0);
    expect(result.forgeCertsPerSecond).toBeGreaterThan(0);
    // The three figures are each rounded for the report, so compare within 5%, not to the digit.
    const ratio = result.nativeCertsPerSecond / result.forgeCertsPerSecond;
    expect(Math.abs(result.speedup - ratio) / ratio).toBeLessThan(0.05);
  });

  it('refuses iteration counts that are not positive whole numbers', () => {
    expect(() => benchX509Signing(0)).toThrow(RangeError);
    expect(() => benchX509Signing(2.5)).toThrow(RangeError);
  });
});
