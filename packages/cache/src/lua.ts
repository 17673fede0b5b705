// Every script's keys share one namespace hash tag, so each runs on one Cluster slot.
// Time comes from the server so that instances with skewed clocks agree.

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * Writes an entry as "<freshUntil>:<payload>" with a PX of ttl + staleTtl,
 * files it under each tag (a sorted set scored by expiry, pruned of expired
 * members and kept alive at least as long as its longest-lived member),
 * releases the fill lock if this writer holds it, and announces the write.
 * KEYS: entry, lock, tag... ARGV: payload, ttl, staleTtl, lock token or '', channel or '', message
 */
export const SET = `${NOW}
local ttl = tonumber(ARGV[2])
local life = ttl + tonumber(ARGV[3])
redis.call('SET', KEYS[1], string.format('%d', now + ttl) .. ':' .. ARGV[1], 'PX', life)
local expireAt = now + life
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], expireAt, KEYS[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('PTTL', KEYS[i]) < life then redis.call('PEXPIRE', KEYS[i], life) end
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return 1`

/**
 * Returns the entry if present; otherwise tries to take the fill lock.
 * Doing both in one step closes the gap where a value lands between a
 * miss and the lock attempt, which would run the loader twice.
 * KEYS: entry, lock  ARGV: token, lock ttl
 * Returns {1, value} | {2} (lock taken) | {0} (someone else holds it)
 */
export const ACQUIRE = `local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {0}`

/**
 * Reads the entry and whether anyone holds its fill lock, without taking it.
 * KEYS: entry, lock  Returns {value or false, 1|0}
 */
export const PEEK = `local value = redis.call('GET', KEYS[1])
return {value, redis.call('EXISTS', KEYS[2])}`

/**
 * Releases the fill lock if still held by this token and wakes waiters.
 * KEYS: lock  ARGV: token, channel or '', message
 */
export const RELEASE = `local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then released = redis.call('DEL', KEYS[1]) end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return released`

/**
 * Deletes entries and announces it. KEYS: entry...  ARGV: channel or '', message
 */
export const DEL = `local n = redis.call('UNLINK', unpack(KEYS))
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`

/**
 * Deletes every entry filed under the tags, then the tags, and announces the
 * deleted keys (or, past 1,000 keys, the whole namespace) to other instances.
 * KEYS: tag...  ARGV: channel or '', instance id, namespace entry prefix
 * Returns {deleted, key...}, or {deleted, '*'} when the whole namespace was announced.
 */
export const INVALIDATE = `local removed = {}
local deleted = 0
for i = 1, #KEYS do
  local members = redis.call('ZRANGE', KEYS[i], 0, -1)
  for j = 1, #members, 500 do
    deleted = deleted + redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  for _, m in ipairs(members) do removed[#removed + 1] = m end
  redis.call('UNLINK', KEYS[i])
end
if ARGV[1] ~= '' and #removed > 0 then
  if #removed > 1000 then
    redis.call('PUBLISH', ARGV[1], cjson.encode({ i = ARGV[2], p = ARGV[3] }))
  else
    redis.call('PUBLISH', ARGV[1], cjson.encode({ i = ARGV[2], k = removed }))
  end
end
if #removed > 1000 then return {deleted, '*'} end
table.insert(removed, 1, deleted)
return removed`
