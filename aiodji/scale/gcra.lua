-- Reserve one request on an organization's shared budget (one atomic script).
-- KEYS[1]: the budget hash. ARGV: fixed rate (0 = adaptive), burst, CUBIC_C, MIN_RATE,
-- HEADROOM, SLOT (µs), SLOTS, accepted replies this process saw since its last report.
-- Server time (TIME): hosts' clocks never matter. FIFO: each call moves the theoretical
-- arrival time on, so callers go in the order they reserved.
-- Returns {wait_us, now_us, rate_milli (0: no rate gate)}.
local now = server_now()
local st = load(KEYS[1])
local fixed, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot_us, slots, accepted = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local changed = arrive(st, now, slot_us, slots, accepted)
local rate = fixed
if fixed <= 0 then
  rate = shared_rate(st, now, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), slot_us, slots)
end
local start = math.max(now, tonumber(st.pause_until) or 0)
if rate then
  local interval = 1000000 / rate
  local tat = math.max(tonumber(st.tat) or 0, start)
  st.tat = tat + interval
  changed[#changed + 1] = 'tat'
  start = math.max(start, tat - (burst - 1) * interval)
end
save(KEYS[1], st, changed)
if not rate then return {start - now, now, 0} end
return {math.floor(start - now), now, math.floor(rate * 1000)}
