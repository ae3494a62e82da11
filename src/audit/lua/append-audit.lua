-- @include "sha256-finish.lua"
-- append_audit(stream, head, argv, first, count): appends `count` events whose (body, digest
-- midstate) pairs start at argv[first]; returns the sequence number of the last one.
local function append_audit(stream, head, argv, first, count)
  local state = redis.call('HMGET', head, 'seq', 'hash')
  local seq = tonumber(state[1]) or 0
  local prev = state[2] or string.rep('0', 64)
  for i = 0, count - 1 do
    local body, midstate = argv[first + 2 * i], argv[first + 2 * i + 1]
    seq = seq + 1
    local hash = sha256_finish_hex(midstate, prev, seq)
    redis.call('XADD', stream, '*', 'seq', seq, 'prev', prev, 'hash', hash, 'body', body)
    prev = hash
  end
  if count > 0 then redis.call('HSET', head, 'seq', seq, 'hash', prev) end
  return seq
end
