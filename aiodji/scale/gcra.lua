-- Reserve one request on an organization's shared budget (one atomic script).
-- KEYS[1]: the budget hash. ARGV: fixed rate (0 = adaptive), burst, CUBIC_C, MIN_RATE,
-- HEADROOM. Server time (TIME): hosts' clocks never matter. FIFO: each call moves the
-- theoretical arrival time on, so callers go in the order they reserved.
-- Returns {wait_us, now_us, rate_milli (0: no rate gate)}.
local now = server_now()
local st = load(KEYS[1])
local fixed, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate = fixed
if fixed <= 0 then rate = shared_rate(st, now, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])) end
redis.call('HINCRBY', KEYS[1], 'admitted', 1)
redis.call('HSETNX', KEYS[1], 'measure_from', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
local start = math.max(now, tonumber(st.pause_until) or 0)
if not rate then return {start - now, now, 0} end
local interval = 1000000 / rate
local tat = math.max(tonumber(st.tat) or 0, start)
local go = math.max(start, tat - (burst - 1) * interval)
redis.call('HSET', KEYS[1], 'tat', tat + interval)
return {math.floor(go - now), now, math.floor(rate * 1000)}
