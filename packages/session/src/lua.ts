// Keys of one session share the hash tag of its id: {id}. The per-user index
// has its own tag, so on Cluster it is updated by a separate script.

// Bumps a user's index entry to the session's expiry and keeps the index
// alive at least as long as its newest session.
const INDEX_BUMP = `
local function bump(index, member, ttl)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', index, now + ttl, member)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end
`

/**
 * KEYS[1] session hash, KEYS[2] tombstone, optional KEYS[3] index of the
 * current user, KEYS[4] index of the previous user.
 * ARGV: mode ('n' new/replace, 'u' update), ttl ms, #set pairs, #deleted,
 * session id, then set pairs, then deleted fields.
 * Returns 1 when written, 0 when the session was destroyed (or expired)
 * meanwhile, so a late save cannot bring it back.
 */
export const SAVE = INDEX_BUMP + `
-- A destroy deletes the hash and writes the tombstone at once, so an
-- existing hash means no tombstone: updates only need the first check.
if ARGV[1] == 'u' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
else
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  redis.call('DEL', KEYS[1])
end
local ttl = tonumber(ARGV[2])
local nset = tonumber(ARGV[3])
local ndel = tonumber(ARGV[4])
local first = 6
local last = first + nset * 2 - 1
while first <= last do
  local stop = math.min(first + 999, last)
  redis.call('HSET', KEYS[1], unpack(ARGV, first, stop))
  first = stop + 1
end
last = first + ndel - 1
while first <= last do
  local stop = math.min(first + 999, last)
  redis.call('HDEL', KEYS[1], unpack(ARGV, first, stop))
  first = stop + 1
end
redis.call('PEXPIRE', KEYS[1], ttl)
if KEYS[4] and KEYS[4] ~= KEYS[3] then redis.call('ZREM', KEYS[4], ARGV[5]) end
if KEYS[3] then bump(KEYS[3], ARGV[5], ttl) end
return 1
`

/** KEYS[1] session hash, optional KEYS[2] user index. ARGV: ttl ms, session id. Never rewrites data. */
export const TOUCH = INDEX_BUMP + `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
if KEYS[2] then bump(KEYS[2], ARGV[2], tonumber(ARGV[1])) end
return 1
`

/** KEYS[1] user index. ARGV: ttl ms, session id. */
export const INDEX = INDEX_BUMP + `
bump(KEYS[1], ARGV[2], tonumber(ARGV[1]))
return 1
`

/**
 * KEYS[1] session hash, KEYS[2] tombstone. ARGV[1] tombstone ttl ms (0: none).
 * Returns the meta field, so the caller can drop the user index entry.
 */
export const DESTROY = `
local meta = redis.call('HGET', KEYS[1], '#meta')
redis.call('DEL', KEYS[1])
if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[1]) end
return meta
`

/** KEYS[1] user index. Drops expired entries, returns {member, expiry ms, ...}. */
export const USER_LIST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`

/** KEYS[1] bridge token. GETDEL for servers older than 6.2. */
export const TAKE = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`

/**
 * KEYS[1] session hash. Returns {meta, expiry ms by the server clock}, or nil
 * when the session does not exist. Reads only the meta field, never contents.
 */
export const META = `
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return false end
local meta = redis.call('HGET', KEYS[1], '#meta') or '{}'
if pttl < 0 then return {meta, 0} end
local t = redis.call('TIME')
return {meta, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + pttl}
`
