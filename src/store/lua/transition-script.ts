import { APPEND_AUDIT_LUA, SHA256_LUA } from '../../audit/lua/audit-append-lua';

/**
 * One request transition: compare-and-set on the version, the record, its indexes and its audit
 * events, all in one atomic step.
 *
 * KEYS: 1 request, 2 audit stream, 3 audit head, 4 old state index, 5 new state index,
 *       6 requester index, 7 expiry index, then approver indexes to leave, then to join.
 * ARGV: 1 expected version (0 = create), 2 new version, 3 new state, 4 record JSON, 5 request id,
 *       6 created-at score, 7 expiry score or '' (not an active grant), 8 approvers to leave,
 *       9 approvers to join, 10 audit event count, 11… (body, body hash) pairs.
 * Returns {1, last audit seq} or {0, current version (-1 when absent)}.
 */
export const TRANSITION_SCRIPT = `${SHA256_LUA}${APPEND_AUDIT_LUA}
local current = redis.call('HGET', KEYS[1], 'v')
local expected = tonumber(ARGV[1])
if expected == 0 then
  if current then return {0, tonumber(current)} end
elseif (not current) or tonumber(current) ~= expected then
  return {0, tonumber(current) or -1}
end
local id, score = ARGV[5], ARGV[6]
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'j', ARGV[4])
if expected ~= 0 and KEYS[4] ~= KEYS[5] then redis.call('ZREM', KEYS[4], id) end
redis.call('ZADD', KEYS[5], score, id)
redis.call('ZADD', KEYS[6], score, id)
if ARGV[7] == '' then redis.call('ZREM', KEYS[7], id) else redis.call('ZADD', KEYS[7], ARGV[7], id) end
local leave, join = tonumber(ARGV[8]), tonumber(ARGV[9])
for i = 1, leave do redis.call('ZREM', KEYS[7 + i], id) end
for i = 1, join do redis.call('ZADD', KEYS[7 + leave + i], score, id) end
local seq = append_audit(KEYS[2], KEYS[3], ARGV, 11, tonumber(ARGV[10]))
return {1, seq}
`;
