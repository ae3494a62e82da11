-- One request transition: compare-and-set on the version, the record, its indexes, its slots and
-- its audit events, all in one atomic step.
--
-- KEYS: 1 request, 2 audit stream, 3 audit head, 4 old state index, 5 new state index,
--       6 requester index, 7 expiry index, then slot keys to claim, to release, to take over,
--       then approver indexes to leave, then to join.
-- ARGV: 1 expected version (0 = create), 2 new version, 3 new state, 4 record JSON, 5 request id,
--       6 created-at score, 7 expiry score or '' (not an active grant), 8 approvers to leave,
--       9 approvers to join, 10 audit event count, 11 slots to claim, 12 to release, 13 to take over,
--       14 request key prefix (to read a slot holder's state), 15… (body, digest midstate, index keys)
--       triples (append-audit.lua).
-- Returns {1, last audit seq}, {0, current version (-1 when absent)} on a lost race, or
-- {0, -2, holder id} when a slot to claim is held by another open request.
--
-- A slot (one open request per person and resource; one open extension per grant) holds the id of
-- the request that owns it. A holder that is closed or gone no longer counts, so a slot heals itself
-- after a crash or a retention sweep.
-- @include "../../audit/lua/append-audit.lua"

local current = redis.call('HGET', KEYS[1], 'v')
local expected = tonumber(ARGV[1])
if expected == 0 then
  if current then return {0, tonumber(current)} end
elseif (not current) or tonumber(current) ~= expected then
  return {0, tonumber(current) or -1}
end

local id, score = ARGV[5], ARGV[6]
local claim, release, take = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local open_states = { pending = true, approved = true, issued = true }
local slot_base = 7
for i = 1, claim do
  local holder = redis.call('GET', KEYS[slot_base + i])
  if holder and holder ~= id then
    local state = redis.call('HGET', ARGV[14] .. holder, 's')
    if state and open_states[state] then return {0, -2, holder} end
  end
end
for i = 1, claim do redis.call('SET', KEYS[slot_base + i], id) end
for i = 1, release do
  local key = KEYS[slot_base + claim + i]
  if redis.call('GET', key) == id then redis.call('DEL', key) end
end
for i = 1, take do redis.call('SET', KEYS[slot_base + claim + release + i], id) end
local approver_base = slot_base + claim + release + take

redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'j', ARGV[4])
if expected ~= 0 and KEYS[4] ~= KEYS[5] then redis.call('ZREM', KEYS[4], id) end
redis.call('ZADD', KEYS[5], score, id)
redis.call('ZADD', KEYS[6], score, id)
if ARGV[7] == '' then redis.call('ZREM', KEYS[7], id) else redis.call('ZADD', KEYS[7], ARGV[7], id) end
local leave, join = tonumber(ARGV[8]), tonumber(ARGV[9])
for i = 1, leave do redis.call('ZREM', KEYS[approver_base + i], id) end
for i = 1, join do redis.call('ZADD', KEYS[approver_base + leave + i], score, id) end
local seq = append_audit(KEYS[2], KEYS[3], ARGV, 15, tonumber(ARGV[10]))
return {1, seq}
