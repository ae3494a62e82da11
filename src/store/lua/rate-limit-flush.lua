-- Takes (and clears) the count of suppressed refusals of one subject, so that exactly one replica
-- reports it. KEYS[1] counts hash, KEYS[2] since hash; ARGV[1] subject. Returns {count, since}.
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local since = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {count, since}
