-- The write path's Redis Function library (common/write_path.h): one
-- atomic step per accepted change. cmake/embed_lua.cmake embeds this file
-- with a `#!lua name=accord_write_<hash>` line and `local VERSION =
-- '_<hash>'` before it, <hash> being the start of this file's SHA-256, so
-- two versions of the library coexist during a rolling deploy.
--
-- accord_apply: every key it touches comes in KEYS, in the order used:
--   KEYS[1]   the event stream (accord:events); its channels are
--             KEYS[1] .. ':' .. <event type>
--   then      the idempotency key (if ARGV[1] is '1'),
--             one key per check, then each write's keys.
-- ARGV, all positional so every value stays binary-safe:
--   has idempotency key '1'|'0', ttl seconds,
--   number of checks, then (kind, argument) per check,
--   number of writes, then (command, key count, argc, args...) per write;
--             the command `ZADD*` (`ZREM*`) with n keys and n args adds
--             (removes) the j-th arg to (from) the j-th sorted set, score 0,
--   event type, event bytes (type '' for none), result bytes.
-- Returns {'ok', position} | {'replay', result, position} | {'fail', index}.
--
-- The published message is the stored event with its position appended as
-- protobuf field 7 (tag 0x3A): appending a field to a serialized message is
-- how protobuf merges, so subscribers decode one Event with the position set.
local function apply(keys, args)
  local k = 2  -- the next key to use
  local idem_key = nil
  if args[1] == '1' then
    idem_key = keys[k]
    k = k + 1
    local prior = redis.call('HMGET', idem_key, 'result', 'position')
    if prior[1] then return {'replay', prior[1], prior[2] or ''} end
  end
  local i = 3
  local check_count = tonumber(args[i]); i = i + 1
  for c = 1, check_count do
    local kind, arg = args[i], args[i + 1]
    i = i + 2
    local key = keys[k]
    k = k + 1
    local ok
    if kind == 'absent' then
      ok = redis.call('EXISTS', key) == 0
    elseif kind == 'etag' then
      ok = redis.call('HGET', key, 'etag') == arg
    elseif kind == 'live' then
      ok = redis.call('HGET', key, 'deleted') == '0'
    elseif kind == 'empty' then
      ok = redis.call('SCARD', key) == 0
    else
      return redis.error_reply('accord: unknown check ' .. kind)
    end
    if not ok then return {'fail', tostring(c)} end
  end
  local write_count = tonumber(args[i]); i = i + 1
  for w = 1, write_count do
    local name = args[i]
    local key_count, argc = tonumber(args[i + 1]), tonumber(args[i + 2])
    i = i + 3
    if name == 'ZADD*' or name == 'ZREM*' then
      -- Packed sorted-set writes (secondary indexes): the j-th member
      -- goes to (ZADD with score 0) or leaves (ZREM) the j-th key.
      for j = 0, key_count - 1 do
        if name == 'ZADD*' then
          redis.call('ZADD', keys[k + j], 0, args[i + j])
        else
          redis.call('ZREM', keys[k + j], args[i + j])
        end
      end
      k = k + key_count
    else
      local command = {name}
      for _ = 1, key_count do
        command[#command + 1] = keys[k]
        k = k + 1
      end
      for a = i, i + argc - 1 do command[#command + 1] = args[a] end
      redis.call(unpack(command))
    end
    i = i + argc
  end
  local event_type, event_data = args[i], args[i + 1]
  local result = args[i + 2]
  local position = ''
  if event_type ~= '' then
    position = redis.call('XADD', keys[1], '*',
                          'type', event_type, 'event', event_data)
    redis.call('PUBLISH', keys[1] .. ':' .. event_type,
               event_data .. string.char(0x3A, #position) .. position)
  end
  if idem_key then
    redis.call('HSET', idem_key, 'result', result, 'position', position)
    redis.call('EXPIRE', idem_key, tonumber(args[2]))
  end
  return {'ok', position}
end

redis.register_function('accord_apply' .. VERSION, apply)
