-- SHA-256 in Lua (Redis's bundled `bit` library): Redis has no SHA-256 built in, and the audit
-- chain link must be computed inside the script that appends, so one total order and one unbroken
-- chain hold across any number of replicas with no lock and no retry. ~100 µs of Redis time per event.
local band, bor, bxor, bnot, rshift, lshift, ror, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit
local K256 = {
0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2}
local function sha256_hex(msg)
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64)
  local bits = len * 8
  local hi, lo = math.floor(bits / 4294967296), bits % 4294967296
  msg = msg .. string.char(math.floor(hi/16777216)%256, math.floor(hi/65536)%256, math.floor(hi/256)%256, hi%256,
    math.floor(lo/16777216)%256, math.floor(lo/65536)%256, math.floor(lo/256)%256, lo%256)
  local h0,h1,h2,h3 = tobit(0x6a09e667),tobit(0xbb67ae85),tobit(0x3c6ef372),tobit(0xa54ff53a)
  local h4,h5,h6,h7 = tobit(0x510e527f),tobit(0x9b05688c),tobit(0x1f83d9ab),tobit(0x5be0cd19)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = string.byte(msg, chunk + i*4, chunk + i*4 + 3)
      w[i] = bor(lshift(a,24), lshift(b,16), lshift(c,8), d)
    end
    for i = 16, 63 do
      local v15, v2 = w[i-15], w[i-2]
      w[i] = tobit(w[i-16] + bxor(ror(v15,7), ror(v15,18), rshift(v15,3)) + w[i-7] + bxor(ror(v2,17), ror(v2,19), rshift(v2,10)))
    end
    local a,b,c,d,e,f,g,h = h0,h1,h2,h3,h4,h5,h6,h7
    for i = 0, 63 do
      local t1 = h + bxor(ror(e,6), ror(e,11), ror(e,25)) + bxor(band(e,f), band(bnot(e),g)) + K256[i+1] + w[i]
      local t2 = bxor(ror(a,2), ror(a,13), ror(a,22)) + bxor(band(a,b), band(a,c), band(b,c))
      h = g; g = f; f = e; e = tobit(d + t1); d = c; c = b; b = a; a = tobit(t1 + t2)
    end
    h0=tobit(h0+a); h1=tobit(h1+b); h2=tobit(h2+c); h3=tobit(h3+d); h4=tobit(h4+e); h5=tobit(h5+f); h6=tobit(h6+g); h7=tobit(h7+h)
  end
  return bit.tohex(h0)..bit.tohex(h1)..bit.tohex(h2)..bit.tohex(h3)..bit.tohex(h4)..bit.tohex(h5)..bit.tohex(h6)..bit.tohex(h7)
end
local function hex_to_bin(hex)
  return (string.gsub(hex, '..', function(cc) return string.char(tonumber(cc, 16)) end))
end
local function uint64_be(n)
  local out = {}
  for i = 7, 0, -1 do out[#out + 1] = string.char(math.floor(n / (256 ^ i)) % 256) end
  return table.concat(out)
end
