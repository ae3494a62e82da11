-- The audit chain link (format 2, docs/audit.md): SHA-256(digest ‖ prev ‖ seq) where digest is the
-- 64-byte SHA-512 of the event body. Node hashes the body and runs SHA-256's first block over the
-- digest (src/audit/sha256-midstate.ts); this script runs the second and last block over prev
-- (32 bytes), seq (uint64 big-endian) and the padding of a 104-byte message. Redis has no SHA-256
-- built in, and the link must be made by the script that appends, so one total order and one
-- unbroken chain hold across replicas with no lock and no retry. One block instead of the two of
-- format 1 (prev ‖ body hash ‖ seq) halves the hashing Redis does per event.
local band, bor, bxor, rshift, ror, tobit, tohex = bit.band, bit.bor, bit.bxor, bit.rshift, bit.ror, bit.tobit, bit.tohex
local K256 = {
0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2}
for i = 1, 64 do K256[i] = tobit(K256[i]) end
local W = {}
local function word(hex, i)
  return tobit(tonumber(string.sub(hex, i * 8 + 1, i * 8 + 8), 16))
end
-- midstate: 64 hex chars (8 words); prev: 64 hex chars; seq: an integer below 2^53.
local function sha256_finish_hex(midstate, prev, seq)
  for i = 0, 7 do W[i] = word(prev, i) end
  W[8] = tobit(math.floor(seq / 4294967296))
  W[9] = tobit(seq % 4294967296)
  W[10] = tobit(0x80000000)
  W[11], W[12], W[13], W[14] = 0, 0, 0, 0
  W[15] = 832 -- (64 + 32 + 8) bytes, in bits
  for i = 16, 63 do
    local v15, v2 = W[i-15], W[i-2]
    W[i] = tobit(W[i-16] + bxor(ror(v15,7), ror(v15,18), rshift(v15,3)) + W[i-7] + bxor(ror(v2,17), ror(v2,19), rshift(v2,10)))
  end
  local h0, h1, h2, h3, h4, h5, h6, h7 = word(midstate,0), word(midstate,1), word(midstate,2), word(midstate,3), word(midstate,4), word(midstate,5), word(midstate,6), word(midstate,7)
  local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
  for i = 0, 63 do
    -- ch(e,f,g) = g ^ (e & (f ^ g)); maj(a,b,c) = (a & b) | (c & (a | b)): fewer calls than the textbook forms.
    local t1 = h + bxor(ror(e,6), ror(e,11), ror(e,25)) + bxor(g, band(e, bxor(f, g))) + K256[i+1] + W[i]
    local t2 = bxor(ror(a,2), ror(a,13), ror(a,22)) + bor(band(a, b), band(c, bor(a, b)))
    h = g; g = f; f = e; e = tobit(d + t1); d = c; c = b; b = a; a = tobit(t1 + t2)
  end
  return tohex(h0 + a) .. tohex(h1 + b) .. tohex(h2 + c) .. tohex(h3 + d) .. tohex(h4 + e) .. tohex(h5 + f) .. tohex(h6 + g) .. tohex(h7 + h)
end
