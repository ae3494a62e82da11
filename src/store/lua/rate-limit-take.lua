-- One more hit in a fixed window. KEYS[1] the window's counter; ARGV[1] its lifetime in ms.
-- Returns {count in this window, ms the counter still lives}.
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
