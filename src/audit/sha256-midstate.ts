/**
 * The SHA-256 state after one 64-byte block (the "midstate"), as eight 32-bit words in hex.
 *
 * The audit chain's link (format 2, docs/audit.md) hashes a 64-byte body digest first, then the
 * previous link and the sequence number. Node knows the digest before the append, Redis knows the
 * previous link only inside the append script: Node runs the first block here and the script
 * finishes with one more block instead of two. Node's crypto has no API for a midstate, so this is
 * the FIPS 180-4 compression function, checked against crypto through the Lua finish in the tests.
 */
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const ror = (x: number, n: number) => (x >>> n) | (x << (32 - n));

export function sha256Midstate(block: Buffer): string {
  if (block.length !== 64) throw new RangeError(`a SHA-256 block is 64 bytes, not ${block.length}`);
  const w = new Uint32Array(64);
  for (let i = 0; i < 16; i++) w[i] = block.readUInt32BE(i * 4);
  for (let i = 16; i < 64; i++) {
    const v15 = w[i - 15]!;
    const v2 = w[i - 2]!;
    w[i] = w[i - 16]! + (ror(v15, 7) ^ ror(v15, 18) ^ (v15 >>> 3)) + w[i - 7]! + (ror(v2, 17) ^ ror(v2, 19) ^ (v2 >>> 10));
  }
  let [a, b, c, d, e, f, g, h] = IV as [number, number, number, number, number, number, number, number];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  const out = [a, b, c, d, e, f, g, h].map((v, i) => ((IV[i]! + v) >>> 0).toString(16).padStart(8, '0'));
  return out.join('');
}
