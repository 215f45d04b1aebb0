-- A rate-limited reply, reported by any process: judged on the budget's shared counters as
-- aiodji.ratecontrol judges one Client's, so N processes back off as ONE controller would.
-- KEYS[1]: the budget hash. ARGV: the request's reservation time (µs, server clock), accepted
-- replies since the process's last report, BETA, CUBIC_C, MIN_RATE, HEADROOM, SLOT (µs),
-- SLOTS, MIN_LIMITED, CONGESTION_SHARE, SATURATION_SHARE.
-- Returns 0: the request was reserved before the last event (the same burst: not counted),
-- 1: noise, 2: a congestion event (the shared rate was cut), 3: a saturation event.
local now = server_now()
local st = load(KEYS[1])
local sent, accepted = tonumber(ARGV[1]), tonumber(ARGV[2])
local beta, c, min_rate, headroom = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local slot_us, slots = tonumber(ARGV[7]), tonumber(ARGV[8])
local min_limited, congestion, saturation = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local changed = arrive(st, now, slot_us, slots, accepted)
if sent < (tonumber(st.event_at) or 0) then
  save(KEYS[1], st, changed)
  return 0
end
count(st, 'l', 1, slots, changed)
count(st, 'r', 1, slots, changed)
local limited, replies = total(st, 'l', slots), total(st, 'r', slots)
local share = limited / replies
if limited < min_limited or share < congestion then
  save(KEYS[1], st, changed)
  return 1
end
-- a congestion event: the ceiling is what the server accepted over the window (at most the
-- current rate); the next event needs fresh evidence
local accepted_rate = total(st, 'a', slots) / span(st, now, slot_us, slots)
local current = shared_rate(st, now, c, min_rate, headroom, slot_us, slots)
local ceiling = current
if total(st, 'a', slots) > 0 then
  ceiling = current and math.min(current, accepted_rate) or accepted_rate
end
for j = 0, slots - 1 do
  st['l' .. j] = 0
  changed[#changed + 1] = 'l' .. j
end
st.event_at = now
st.events = (tonumber(st.events) or 0) + 1
changed[#changed + 1] = 'event_at'
changed[#changed + 1] = 'events'
if ceiling then
  st.ceiling = math.max(min_rate, ceiling)
  st.k = (st.ceiling * (1 - beta) / c) ^ (1 / 3)
  changed[#changed + 1] = 'ceiling'
  changed[#changed + 1] = 'k'
end
save(KEYS[1], st, changed)
if share >= saturation then return 3 end
return 2
