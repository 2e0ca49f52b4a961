-- The notification service's Redis Function library
-- (services/notification/redis_functions.h): the steps that must be atomic
-- (record a delivery once, claim a due delivery, trim the stream with its
-- mark). cmake/embed_lua.cmake embeds this file with a `#!lua
-- name=accord_notification_<hash>` line and `local VERSION = '_<hash>'`
-- before it, <hash> being the start of this file's SHA-256, so two versions
-- coexist during a rolling deploy. Every key a function touches comes in
-- KEYS.

local function record_delivery(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then return 0 end
  redis.call('HSET', keys[1], 'data', args[1], 'event', args[2], 'round', '0')
  -- 0: no expiry while the delivery is pending (it expires once final).
  if tonumber(args[3]) > 0 then redis.call('PEXPIRE', keys[1], args[3]) end
  redis.call('ZADD', keys[2], 0, args[4])
  redis.call('ZADD', keys[3], args[5], args[6])
  -- The subscription's outstanding deliveries (absent from callers that
  -- predate it, during a rolling upgrade).
  if keys[4] then redis.call('ZADD', keys[4], 0, args[4]) end
  return 1
end

-- "%020d-%020d" back to "ms-seq".
local function unpad(padded)
  local ms, seq = string.match(padded, '^(%d+)-(%d+)$')
  ms = string.gsub(ms, '^0+', ''); if ms == '' then ms = '0' end
  seq = string.gsub(seq, '^0+', ''); if seq == '' then seq = '0' end
  return ms .. '-' .. seq
end

-- A delivery reached a final state: it is no longer outstanding, and for
-- an ordered subscription the next outstanding one becomes due now (LT:
-- never later than it already was). One step, so a worker parking the
-- next one (ordered_turn) cannot miss it.
local function settle_delivery(keys, args)
  redis.call('ZREM', keys[1], args[1])
  if args[2] == '1' then
    local head = redis.call('ZRANGE', keys[1], 0, 0)
    if head[1] then
      redis.call('ZADD', keys[2], 'XX', 'LT', args[4],
                 args[3] .. '/deliveries/' .. unpad(head[1]))
    end
  end
  return 1
end

-- Whether an ordered subscription's delivery may be attempted: it is the
-- oldest outstanding one (or not tracked, from before ordering existed).
-- Otherwise it is parked until settle_delivery wakes it (args[3] is only a
-- safety net).
local function ordered_turn(keys, args)
  if not redis.call('ZSCORE', keys[1], args[1]) then return 1 end
  local head = redis.call('ZRANGE', keys[1], 0, 0)
  if head[1] == args[1] then return 1 end
  redis.call('ZADD', keys[2], args[3], args[2])
  return 0
end

-- The event's channel is the stream's name, ':', its type.
local function emit(stream, event_type, data)
  local position = redis.call('XADD', stream, '*', 'type', event_type,
                              'event', data)
  redis.call('PUBLISH', stream .. ':' .. event_type,
             data .. string.char(0x3A, #position) .. position)
end

-- Counts one attempt in a subscription's health and records the
-- subscription_failing / subscription_recovered event exactly when the
-- state flips, in the same step: 1 turned failing, 2 recovered, 0 neither.
local function delivery_outcome(keys, args)
  local was_failing = redis.call('HGET', keys[1], 'failing') == '1'
  if args[1] == 'ok' then
    redis.call('HSET', keys[1], 'failures', 0, 'failing', 0,
               'last_success_ms', args[2])
    redis.call('HDEL', keys[1], 'failing_since_ms')
    if was_failing then
      emit(keys[2], args[8], args[6])
      return 2
    end
    return 0
  end
  local failures = redis.call('HINCRBY', keys[1], 'failures', 1)
  redis.call('HSET', keys[1], 'last_failure_ms', args[2],
             'last_failure_reason', args[3])
  if failures >= tonumber(args[4]) and not was_failing then
    redis.call('HSET', keys[1], 'failing', 1, 'failing_since_ms', args[2])
    emit(keys[2], args[7], args[5])
    return 1
  end
  return 0
end

local function claim_delivery(keys, args)
  local score = redis.call('ZSCORE', keys[1], args[1])
  if score and tonumber(score) <= tonumber(args[2]) then
    redis.call('ZADD', keys[1], args[3], args[1])
    return 1
  end
  return 0
end

-- One function: the mark and the trim cannot be separated by a crash.
local function trim_events(keys, args)
  local last = redis.call('XREVRANGE', keys[1], '(' .. args[1], '-',
                          'COUNT', 1)
  if #last == 0 then return 0 end
  local removed = redis.call('XTRIM', keys[1], 'MINID', args[1])
  redis.call('SET', keys[2], last[1][1])
  return removed
end

redis.register_function('accord_record_delivery' .. VERSION, record_delivery)
redis.register_function('accord_claim_delivery' .. VERSION, claim_delivery)
redis.register_function('accord_trim_events' .. VERSION, trim_events)
redis.register_function('accord_settle_delivery' .. VERSION, settle_delivery)
redis.register_function('accord_ordered_turn' .. VERSION, ordered_turn)
redis.register_function('accord_delivery_outcome' .. VERSION, delivery_outcome)
