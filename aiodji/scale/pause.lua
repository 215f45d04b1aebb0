-- A 429: pause every process of the organization and, when adaptive, lower the shared rate.
-- KEYS[1]: the budget hash. ARGV: pause (µs), the request's reservation time (µs, server
-- clock), adaptive (1/0). A 429 of a request reserved before the last pause began is ignored:
-- it was sent at the old rate and says nothing new. Returns 1 when it counted, else 0.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[1])
local sent = tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[1], 'pause_started', 'rate', 'measure_from', 'admitted',
  'pause_until')
local pause_started = tonumber(st[1]) or 0
if sent < pause_started then return 0 end
local until_ = math.max(tonumber(st[5]) or 0, now + pause)
redis.call('HSET', KEYS[1], 'pause_started', now, 'pause_until', until_)
if ARGV[3] == '1' then
  local from = tonumber(st[3]) or now
  local admitted = tonumber(st[4]) or 0
  local estimate = admitted / math.max((now - from) / 1000000, 0.1)
  local rate = tonumber(st[2])
  if not rate then
    if admitted > 0 then
      redis.call('HSET', KEYS[1], 'rate', math.max(1, estimate * 0.9), 'step_at', now)
    end
  else
    local ceiling = math.min(rate, estimate)
    redis.call('HSET', KEYS[1], 'ceiling', ceiling, 'rate', math.max(1, ceiling * 0.95),
      'step_at', now)
  end
  redis.call('HSET', KEYS[1], 'measure_from', until_, 'admitted', 0)
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
