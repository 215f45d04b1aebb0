-- A rate-limited reply, reported by any process: judged on the budget's shared counters as
-- aiodji.ratecontrol judges one Client's, so N processes back off as ONE controller would.
-- KEYS: the budget hash, its learned rate. ARGV: the request's reservation time (µs, server
-- clock), BETA, CUBIC_C, MIN_RATE, HEADROOM, SLOT (µs), SLOTS, MIN_LIMITED, CONGESTION_SHARE,
-- SATURATION_SHARE, learned-rate TTL (ms).
-- Returns 0: the request was reserved before the last event (the same burst: not counted),
-- 1: noise, 2: a congestion event (the shared rate was cut), 3: a saturation event.
local now = server_now()
local st = load(KEYS[1])
local sent = tonumber(ARGV[1])
local beta, c, min_rate, headroom = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local slot_us, slots = tonumber(ARGV[6]), tonumber(ARGV[7])
local min_limited, congestion, saturation = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local changed = advance(st, now, slot_us, slots)
count(st, 'x', 1, slots, changed)
if sent < (tonumber(st.event_at) or 0) then
  save(KEYS[1], st, changed)
  return 0
end
count(st, 'l', 1, slots, changed)
local limited, replies = total(st, 'l', slots), math.max(1, total(st, 'r', slots))
local share = math.min(1, limited / replies)
if limited < min_limited or share < congestion then
  save(KEYS[1], st, changed)
  return 1
end
-- a congestion event: the ceiling is what the server accepted over the window (at most the
-- current rate); the next event needs fresh evidence
local ok = accepted(st, slots)
local current = shared_rate(st, now, c, min_rate, headroom, slot_us, slots)
local ceiling = current
if ok > 0 then ceiling = math.min(current, ok / (span(st, now, slot_us, slots) + ahead(st, now))) end
for j = 0, slots - 1 do
  st['l' .. j] = 0
  changed[#changed + 1] = 'l' .. j
end
st.event_at = now
st.events = (tonumber(st.events) or 0) + 1
changed[#changed + 1] = 'event_at'
changed[#changed + 1] = 'events'
set_ceiling(st, ceiling, beta, c, min_rate, changed)
-- the next run (or a worker that joins later) starts from here instead of rediscovering it
redis.call('SET', KEYS[2], st.ceiling, 'PX', tonumber(ARGV[11]))
save(KEYS[1], st, changed)
if share >= saturation then return 3 end
return 2
