-- @include "sha256-finish.lua"
-- append_audit(stream, head, argv, first, count): appends `count` events whose (body, digest
-- midstate, index keys) triples start at argv[first]; returns the sequence number of the last one.
-- Index keys (newline-separated, all under the installation's hash tag: one slot) are the event's
-- request and people: each gets the event's stream id pushed, so `audit export --request/--user`
-- reads only their events. The head's `indexed` and `indexedId` are the first event ever indexed:
-- older events (written before indexes existed) are found by reading the stream up to it.
local function append_audit(stream, head, argv, first, count)
  local state = redis.call('HMGET', head, 'seq', 'hash')
  local seq = tonumber(state[1]) or 0
  local prev = state[2] or string.rep('0', 64)
  local first_id
  for i = 0, count - 1 do
    local at = first + 3 * i
    local body, midstate, index = argv[at], argv[at + 1], argv[at + 2]
    seq = seq + 1
    local hash = sha256_finish_hex(midstate, prev, seq)
    local id = redis.call('XADD', stream, '*', 'seq', seq, 'prev', prev, 'hash', hash, 'body', body)
    for key in string.gmatch(index, '[^\n]+') do redis.call('RPUSH', key, id) end
    first_id = first_id or id
    prev = hash
  end
  if count > 0 then
    redis.call('HSET', head, 'seq', seq, 'hash', prev)
    if redis.call('HSETNX', head, 'indexed', seq - count + 1) == 1 then redis.call('HSET', head, 'indexedId', first_id) end
  end
  return seq
end
