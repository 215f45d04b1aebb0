-- Reserve up to n requests on an organization's shared budget (one atomic script).
-- KEYS: the budget hash, its learned rate (a string with a longer TTL), its heartbeats (a
-- sorted set: process id -> last seen, µs).
-- ARGV: fixed rate (0 = adaptive), burst, CUBIC_C, MIN_RATE, HEADROOM, SLOT (µs), SLOTS, BETA,
-- n (slots wanted), horizon (µs), give-back count, give-back tat (µs), give-back interval (µs),
-- process id ('' = no heartbeat this time), heartbeat TTL (µs), learned-rate TTL (ms).
-- Server time (TIME): hosts' clocks never matter. Slots are never reserved further than the
-- horizon ahead, so a cut of the rate takes effect within the horizon for every process.
-- Returns {reserved, first_us, floor_us, interval_us, now_us, rate_milli, processes, tat,
-- ceiling_milli (0: none yet)}:
-- slot i goes at now + max(floor, first + i * interval); processes = -1 without a heartbeat.
local now = server_now()
local st = load(KEYS[1])
local fixed, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local c, min_rate, headroom = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local slot_us, slots, beta = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local wanted, horizon = tonumber(ARGV[9]), tonumber(ARGV[10])
local changed = advance(st, now, slot_us, slots)

-- slots a process reserved and did not use: given back when nobody reserved after them
local give_n, give_tat = tonumber(ARGV[11]), tonumber(ARGV[12])
if give_n > 0 and tonumber(st.tat) == give_tat then
  st.tat = math.max(now, give_tat - give_n * tonumber(ARGV[13]))
  changed[#changed + 1] = 'tat'
end

-- a new budget starts from the rate an earlier run learned (on the flat part of its curve)
if fixed <= 0 and not st.ceiling then
  local learned = tonumber(redis.call('GET', KEYS[2]))
  if learned then
    set_ceiling(st, learned, beta, c, min_rate, changed)
    st.event_at = now - st.k * 1e6
    changed[#changed + 1] = 'event_at'
  end
end
if st.ceiling then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[16])) end

local processes = -1
if ARGV[14] ~= '' then
  redis.call('ZADD', KEYS[3], now, ARGV[14])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[15]))
  redis.call('PEXPIRE', KEYS[3], math.ceil(tonumber(ARGV[15]) / 1000))
  processes = redis.call('ZCARD', KEYS[3])
end

local rate = fixed
if fixed <= 0 then rate = shared_rate(st, now, c, min_rate, headroom, slot_us, slots) end
local start = math.max(now, tonumber(st.pause_until) or 0)
local interval = 1000000 / rate
local tat = math.max(tonumber(st.tat) or 0, start)
-- a batch goes only when it fits before the horizon whole (or nothing is queued), so a busy
-- process keeps its batches instead of polling for one slot at a time
wanted = math.min(wanted, math.max(1, math.floor(horizon / interval)))
local n = wanted
if tat > now and tat + (wanted - 1) * interval > now + horizon then n = 0 end
local first = tat - (burst - 1) * interval
if n > 0 then
  st.tat = math.floor(tat + n * interval)
  changed[#changed + 1] = 'tat'
  count(st, 'r', n, slots, changed)
  st.reserved = (tonumber(st.reserved) or 0) + n
  changed[#changed + 1] = 'reserved'
end
save(KEYS[1], st, changed)
-- nothing reserved: first_us says when to ask again (when the batch will fit)
if n == 0 then first = tat + (wanted - 1) * interval - horizon end
return {n, math.floor(first - now), math.floor(start - now), math.floor(interval),
  now, math.floor(rate * 1000), processes, tonumber(st.tat) or 0,
  math.floor((tonumber(st.ceiling) or 0) * 1000)}
