-- Shared by the scripts below: the budget's rate at `now` (the CUBIC curve of
-- aiodji.ratecontrol; its constants come in ARGV, so the maths has one source) and the
-- budget's counters, a ring of `slots` slots of `slot_us` µs (ratecontrol's window), so the
-- budget is judged as ONE controller, not one per process.
-- The ring counts what the server saw without any report from the processes: r<i> the
-- requests reserved (each reservation is a request about to be sent), x<i> the rate-limited
-- replies (every 429 runs event.lua), l<i> the rate-limited replies since the last event
-- (the judgement's evidence). Accepted = r - x: exact and on time, however many processes.
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
  -- round trips and reserved slots since the budget began (what the benchmark reports)
  st.calls = (tonumber(st.calls) or 0) + 1
  fields[#fields + 1] = 'calls'
  local args = {}
  for _, f in ipairs(fields) do
    args[#args + 1] = f
    args[#args + 1] = st[f]
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
  redis.call('PEXPIRE', key, 3600000)
end

-- move the ring to `now` (slot: the absolute index of the newest slot, first: the first
-- request); returns the field names it changed
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
      st['r' .. j], st['x' .. j], st['l' .. j] = 0, 0, 0
      changed[#changed + 1] = 'r' .. j
      changed[#changed + 1] = 'x' .. j
      changed[#changed + 1] = 'l' .. j
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

-- seconds the ring covers at `now` (the newest slot is only partly over)
local function span(st, now, slot_us, slots)
  local covered = now - (tonumber(st.slot) - slots + 1) * slot_us
  local since = now - tonumber(st.first)
  return math.max(slot_us / 2, math.min(covered, since)) / 1e6
end

-- seconds the reservations in the ring cover: the ring's span plus the queue reserved ahead
-- of `now` (slots are counted when reserved, up to the horizon before they go; without this a
-- rising rate would look faster than what the server saw)
local function ahead(st, now)
  return math.max(0, (tonumber(st.tat) or 0) - now) / 1e6
end

-- requests/s the ring saw reserved
local function sent_rate(st, now, slot_us, slots)
  return total(st, 'r', slots) / (span(st, now, slot_us, slots) + ahead(st, now))
end

local function accepted(st, slots)
  return math.max(0, total(st, 'r', slots) - total(st, 'x', slots))
end

-- The rate at `now`. Before any congestion event (no ceiling): a shared slow start, no faster
-- than twice what was sent lately plus HEADROOM, so N processes discovering together double
-- their total each window instead of each opening its own window at once.
local function shared_rate(st, now, c, min_rate, headroom, slot_us, slots)
  local ceiling = tonumber(st.ceiling)
  if not ceiling then
    -- over the whole window, so the first requests (a short span) do not look like a flood
    local recent = total(st, 'r', slots) / (slots * slot_us / 1e6 + ahead(st, now))
    return math.max(min_rate, 2 * recent + headroom)
  end
  local cap = 2 * sent_rate(st, now, slot_us, slots) + headroom
  local t = (now - tonumber(st.event_at)) / 1e6 - tonumber(st.k)
  local cubic = ceiling + c * t * t * t
  if cubic > ceiling then
    -- past the ceiling: no faster than twice what was sent lately, plus a little
    cubic = math.min(cubic, math.max(ceiling, cap))
  end
  return math.max(min_rate, cubic)
end

-- a new ceiling (an event, or the learned rate of an earlier run): CUBIC's K from it
local function set_ceiling(st, ceiling, beta, c, min_rate, changed)
  st.ceiling = math.max(min_rate, ceiling)
  st.k = (st.ceiling * (1 - beta) / c) ^ (1 / 3)
  changed[#changed + 1] = 'ceiling'
  changed[#changed + 1] = 'k'
end
