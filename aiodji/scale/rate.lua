-- Shared by the scripts below: the budget's rate at `now`, the CUBIC curve of
-- aiodji.ratecontrol (its constants come in ARGV, so the maths has one source).
-- st: the hash fields; returns nil while no congestion was seen (no rate gate).
local function shared_rate(st, now, c, min_rate, headroom)
  local ceiling = tonumber(st.ceiling)
  if not ceiling then return nil end
  local t = (now - tonumber(st.event_at)) / 1e6 - tonumber(st.k)
  local cubic = ceiling + c * t * t * t
  if cubic > ceiling then
    -- past the ceiling: no faster than twice what was sent lately, plus a little
    local span = math.max((now - (tonumber(st.measure_from) or now)) / 1e6, 0.05)
    local sent = (tonumber(st.admitted) or 0) / span
    cubic = math.min(cubic, math.max(ceiling, 2 * sent + headroom))
  end
  return math.max(min_rate, cubic)
end

local function load(key)
  local raw = redis.call('HGETALL', key)
  local st = {}
  for i = 1, #raw, 2 do st[raw[i]] = raw[i + 1] end
  return st
end

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
