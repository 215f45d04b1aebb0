-- Shared by the scripts below: the budget's rate at `now` (the CUBIC curve of
-- aiodji.ratecontrol; its constants come in ARGV, so the maths has one source) and the reply
-- counters every process feeds, a ring of `slots` slots of `slot_us` µs (ratecontrol's window),
-- so the budget is judged as ONE controller, not one per process.
-- st: the hash fields, as a table; `save` writes the fields the scripts changed.

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

local function save(key, st, fields)
  local args = {}
  for _, f in ipairs(fields) do
    args[#args + 1] = f
    args[#args + 1] = st[f]
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
  redis.call('PEXPIRE', key, 3600000)
end

-- the ring: fields a<i> (accepted), l<i> (rate limited), r<i> (replies), slot (the absolute
-- index of the newest slot), first (the first reply); returns the field names it changed
local function advance(st, now, slot_us, slots)
  local slot = math.floor(now / slot_us)
  local newest = tonumber(st.slot)
  local changed = {}
  if not st.first then
    st.first = now
    changed[#changed + 1] = 'first'
  end
  if newest == nil or slot > newest then
    local from = newest or (slot - slots)
    for k = 1, math.min(slot - from, slots) do
      local j = (from + k) % slots
      st['a' .. j], st['l' .. j], st['r' .. j] = 0, 0, 0
      changed[#changed + 1] = 'a' .. j
      changed[#changed + 1] = 'l' .. j
      changed[#changed + 1] = 'r' .. j
    end
    st.slot = slot
    changed[#changed + 1] = 'slot'
  end
  return changed
end

local function total(st, prefix, slots)
  local n = 0
  for j = 0, slots - 1 do n = n + (tonumber(st[prefix .. j]) or 0) end
  return n
end

-- add to the newest slot's counter (after advance)
local function count(st, prefix, n, slots, changed)
  local f = prefix .. (tonumber(st.slot) % slots)
  st[f] = (tonumber(st[f]) or 0) + n
  changed[#changed + 1] = f
end

-- move the ring to `now` and add a process's accepted replies (reported with its next call)
local function arrive(st, now, slot_us, slots, accepted)
  local changed = advance(st, now, slot_us, slots)
  if accepted > 0 then
    count(st, 'a', accepted, slots, changed)
    count(st, 'r', accepted, slots, changed)
  end
  return changed
end

-- seconds the ring covers at `now` (the newest slot is only partly over)
local function span(st, now, slot_us, slots)
  local covered = now - (tonumber(st.slot) - slots + 1) * slot_us
  local since = now - tonumber(st.first)
  return math.max(slot_us / 2, math.min(covered, since)) / 1e6
end

local function shared_rate(st, now, c, min_rate, headroom, slot_us, slots)
  local ceiling = tonumber(st.ceiling)
  if not ceiling then return nil end
  local t = (now - tonumber(st.event_at)) / 1e6 - tonumber(st.k)
  local cubic = ceiling + c * t * t * t
  if cubic > ceiling then
    -- past the ceiling: no faster than twice what was sent lately, plus a little
    local sent = total(st, 'r', slots) / span(st, now, slot_us, slots)
    cubic = math.min(cubic, math.max(ceiling, 2 * sent + headroom))
  end
  return math.max(min_rate, cubic)
end
