-- Reserve one request slot on an organization's shared budget (atomic: one script).
-- KEYS[1]: the budget hash. ARGV: fixed rate (req/s, 0 = shared adaptive), burst.
-- Server time from TIME, so hosts' clocks never matter. Returns {wait_us, now_us, rate_milli}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local fixed = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'pause_until', 'ceiling', 'step_at')
local tat = tonumber(st[1]) or 0
local rate = tonumber(st[2])
if fixed > 0 then rate = fixed end
local pause_until = tonumber(st[3]) or 0
local start = math.max(now, pause_until)
redis.call('HINCRBY', KEYS[1], 'admitted', 1)
redis.call('HSETNX', KEYS[1], 'measure_from', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
if not rate then
  -- discovery: no rate learnt yet, only a pause holds requests back
  return {start - now, now, 0}
end
local interval = 1000000 / rate
tat = math.max(tat, start)
local go = math.max(start, tat - (burst - 1) * interval)
redis.call('HSET', KEYS[1], 'tat', tat + interval)
if fixed == 0 and go > now then
  -- demand pushes against the gate: grow 10 %/s until the first ceiling, probe 5 % a minute
  local step_at = tonumber(st[5]) or 0
  local ceiling = tonumber(st[4])
  if not ceiling and now - step_at >= 1000000 then
    redis.call('HSET', KEYS[1], 'rate', rate * 1.1, 'step_at', now)
  elseif ceiling and now - step_at >= 60000000 then
    redis.call('HSET', KEYS[1], 'ceiling', ceiling * 1.05, 'rate', ceiling * 1.05 * 0.95,
      'step_at', now)
  end
end
return {math.floor(go - now), now, math.floor(rate * 1000)}
