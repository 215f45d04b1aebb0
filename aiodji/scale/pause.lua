-- Pause every process of the budget: KEYS[1] the hash, ARGV[1] the pause in µs.
local now = server_now()
local until_ = now + tonumber(ARGV[1])
if until_ > (tonumber(redis.call('HGET', KEYS[1], 'pause_until')) or 0) then
  redis.call('HSET', KEYS[1], 'pause_until', until_)
end
redis.call('HINCRBY', KEYS[1], 'calls', 1)
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
