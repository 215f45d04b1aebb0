-- A congestion event (a process's controller judged its 429s to be congestion, not noise):
-- lower the shared rate for every process, as aiodji.ratecontrol does in one.
-- KEYS[1]: the budget hash. ARGV: the request's reservation time (µs, server clock), BETA,
-- CUBIC_C, MIN_RATE, HEADROOM. A 429 of a request reserved before the last event is the same
-- burst: ignored (returns 0). Returns 1 when it lowered the rate.
local now = server_now()
local st = load(KEYS[1])
local sent = tonumber(ARGV[1])
local beta, c, min_rate = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if sent < (tonumber(st.event_at) or 0) then return 0 end
local admitted = tonumber(st.admitted) or 0
local span = math.max((now - (tonumber(st.measure_from) or now)) / 1e6, 0.05)
local measured = admitted / span
local ceiling
local current = shared_rate(st, now, c, min_rate, tonumber(ARGV[5]))
if current then
  ceiling = current
  if admitted > 0 then ceiling = math.min(current, measured) end
elseif admitted > 0 then
  ceiling = measured
end
redis.call('HSET', KEYS[1], 'event_at', now, 'measure_from', now, 'admitted', 0)
if ceiling then
  ceiling = math.max(min_rate, ceiling)
  redis.call('HSET', KEYS[1], 'ceiling', ceiling, 'k', (ceiling * (1 - beta) / c) ^ (1 / 3))
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
