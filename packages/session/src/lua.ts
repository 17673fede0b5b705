import { MS_OF, type LuaScript } from '@redkit/core/kit'

// Keys of one session share the hash tag of its id: {id}. The per-user index
// has its own tag, and the two registries (live sessions, users with a live
// session) share one tag of their own, so on Cluster each group is updated by
// a script of its own; on a single server one script updates all of them.

/**
 * Sorted sets scored by expiry in ms on the server clock. An expired member
 * is never counted (ZCOUNT skips it), and each write that adds or removes a
 * member drops a bounded number of them, so no call does work in proportion
 * to the keyspace. A write that only moves a member's score leaves the set's
 * size as it was, so it has nothing to make up for.
 */
const LIB = MS_OF + `
local PRUNE = 100
-- A set's expiry is moved past its latest score by this much more, so the
-- writes that follow within that time find it far enough and skip the move.
local SLACK = 60000
local function now_ms()
  return msOf(redis.call('TIME'))
end
local function trim(key, now, limit)
  local old = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, limit or PRUNE)
  if #old > 0 then redis.call('ZREM', key, unpack(old)) end
end
-- Adds a member at score (or removes it when score is nil) and keeps the
-- set alive at least until its latest score (and at most SLACK past it).
-- Scores are whole ms, passed as integer text: Redis prints a Lua number
-- given to redis.call with %.17g, several times the cost of this.
local function place(key, member, score, now)
  if score then
    local added = redis.call('ZADD', key, string.format('%d', score), member)
    if redis.call('PTTL', key) < score - now then redis.call('PEXPIREAT', key, score + SLACK) end
    if added == 0 then return end
  else
    redis.call('ZREM', key, member)
  end
  trim(key, now)
end
-- place() for many members at once: flat {score, member, ...} and their
-- highest score. A write that adds n members drops up to max(n, PRUNE)
-- expired ones, so a batch still makes up for its growth.
local function placeMany(key, pairs, top, now)
  local added = redis.call('ZADD', key, unpack(pairs))
  if redis.call('PTTL', key) < top - now then redis.call('PEXPIREAT', key, top + SLACK) end
  if added > 0 then trim(key, now, math.max(added, PRUNE)) end
end
-- Runs cmd on key with ARGV[first..last], at most 1000 arguments a call
-- (unpack's stack limit); nothing when first > last.
local function inChunks(cmd, key, first, last)
  while first <= last do
    local stop = math.min(first + 999, last)
    redis.call(cmd, key, unpack(ARGV, first, stop))
    first = stop + 1
  end
end
local function live(key, now)
  return redis.call('ZCARD', key) - redis.call('ZCOUNT', key, '-inf', now)
end
-- Updates a user's index and the users registry; returns the latest expiry
-- of the user's sessions (0 when none is live).
local function index(idx, users, id, user, score, now)
  place(idx, id, score, now)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  local last = 0
  if #top > 0 and tonumber(top[2]) > now then last = tonumber(top[2]) end
  if users then
    if last > 0 then place(users, user, last, now) else place(users, user, nil, now) end
  end
  return last
end
`

/**
 * Writes the changed fields of a session and its expiry; on a single server
 * also its registry entries and user indexes. The key count varies: KEYS[3..]
 * only on a single server, an index only for a user that is set.
 *
 * KEYS[1] = session hash
 * KEYS[2] = tombstone
 * KEYS[3] = registry (single server)
 * KEYS[4] = users registry (single server)
 * KEYS[5..] = index of ARGV[6] when set, then index of ARGV[7] when set (single server)
 * ARGV[1] = mode: 'n' new/replace, 'f' fresh (an id generated for this request and never saved), 'u' update
 * ARGV[2] = ttl (ms)
 * ARGV[3] = number of field/value pairs to set
 * ARGV[4] = number of fields to delete
 * ARGV[5] = session id
 * ARGV[6] = user, or ''
 * ARGV[7] = previous user, or ''
 * ARGV[8..] = the field/value pairs, then the fields to delete
 * returns = 1 when written, 0 when the session was destroyed (or expired)
 *   meanwhile, so a late save cannot bring it back
 */
export const SAVE = LIB + `
-- A destroy deletes the hash and writes the tombstone at once, so an
-- existing hash means no tombstone: updates only need the first check.
-- A fresh id was never stored, so it has neither a hash nor a tombstone
-- (destroy writes one only for a session that existed).
-- An update sets the TTL first: PEXPIRE answers 0 for a missing hash, so it
-- is the check too, and HSET and HDEL keep a TTL.
local update = ARGV[1] == 'u'
if update then
  if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 0 end
elseif ARGV[1] == 'n' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  redis.call('DEL', KEYS[1])
end
local ttl = tonumber(ARGV[2])
local nset = tonumber(ARGV[3])
local ndel = tonumber(ARGV[4])
local setEnd = 8 + nset * 2 - 1
inChunks('HSET', KEYS[1], 8, setEnd)
inChunks('HDEL', KEYS[1], setEnd + 1, setEnd + ndel)
-- The ttl as sent: a Lua number would be printed again with %.17g.
if not update then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if KEYS[3] then
  local now = now_ms()
  place(KEYS[3], ARGV[5], now + ttl, now)
  local k = 5
  if ARGV[6] ~= '' then
    index(KEYS[k], KEYS[4], ARGV[5], ARGV[6], now + ttl, now)
    k = k + 1
  end
  if ARGV[7] ~= '' then index(KEYS[k], KEYS[4], ARGV[5], ARGV[7], nil, now) end
end
return 1
`

/**
 * Single server only: the saves of several sessions queued in one turn of
 * the event loop that have no field to delete and no user to move from, as
 * SAVE would write each of them, in order, with one read of the clock and
 * one variadic ZADD per registry for the lot. Each session is checked and
 * written on its own: one refused (a tombstoned 'n' id, an 'u' session
 * destroyed meanwhile) leaves the others written.
 *
 * KEYS[1] = registry
 * KEYS[2] = users registry
 * KEYS[3..] = per session, in ARGV order: its hash, its tombstone ('n' mode
 *   only: a fresh id has none, and an update checks its hash), then the index
 *   of its user when one is set
 * ARGV[1] = number of sessions
 * ARGV[2..] = per session: mode ('n', 'f' or 'u', as for SAVE), ttl (ms), number
 *   of field/value pairs, session id, user or '', then the field/value pairs
 * returns = per session in ARGV order: 1 when written, 0 when refused, or the
 *   text of the error that stopped its writes
 */
export const SAVE_BATCH = LIB + `
local now = now_ms()
local out = {}
local reg, regTop = {}, 0
local users, usersTop = {}, 0
-- One session's checks and writes; an error (a key of the wrong type, say)
-- is caught by the loop below, so it fails that session alone.
-- PEXPIRE gets the ttl as sent and ZADD its scores as integer text (see
-- place()): printing Lua numbers took a tenth of this script's time.
local function saveOne(mode, ttl, id, user, key, gone, idx, first, last)
  -- As in SAVE, an update's PEXPIRE is its check, and HSET keeps the TTL.
  local update = mode == 'u'
  if update then
    if redis.call('PEXPIRE', key, ttl) == 0 then return 0 end
  elseif mode == 'n' then
    if redis.call('EXISTS', gone) == 1 then return 0 end
    redis.call('DEL', key)
  end
  inChunks('HSET', key, first, last)
  if not update then redis.call('PEXPIRE', key, ttl) end
  local score = now + tonumber(ttl)
  reg[#reg + 1] = string.format('%d', score)
  reg[#reg + 1] = id
  if score > regTop then regTop = score end
  if idx then
    local latest = index(idx, false, id, user, score, now)
    users[#users + 1] = string.format('%d', latest)
    users[#users + 1] = user
    if latest > usersTop then usersTop = latest end
  end
  return 1
end
local k, a = 3, 2
for i = 1, tonumber(ARGV[1]) do
  local mode, ttl, nset = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local id, user = ARGV[a + 3], ARGV[a + 4]
  local key, gone, idx = KEYS[k], nil, nil
  k = k + 1
  if mode == 'n' then
    gone = KEYS[k]
    k = k + 1
  end
  if user ~= '' then
    idx = KEYS[k]
    k = k + 1
  end
  local first = a + 5
  local last = first + nset * 2 - 1
  a = last + 1
  local ok, result = pcall(saveOne, mode, ttl, id, user, key, gone, idx, first, last)
  if ok then
    out[i] = result
  else
    out[i] = type(result) == 'table' and result.err or tostring(result)
  end
end
if #reg > 0 then placeMany(KEYS[1], reg, regTop, now) end
if #users > 0 then placeMany(KEYS[2], users, usersTop, now) end
return out
`

/**
 * Extends a session's expiry; on a single server also its registry entries.
 * Never rewrites data. The key count varies: 1 on Cluster, 3 or 4 on a single server.
 *
 * KEYS[1] = session hash
 * KEYS[2] = registry (single server)
 * KEYS[3] = users registry (single server)
 * KEYS[4] = index of ARGV[3] (single server, when a user is set)
 * ARGV[1] = ttl (ms)
 * ARGV[2] = session id
 * ARGV[3] = user, or ''
 * returns = 1 when the session exists, else 0
 */
export const TOUCH = LIB + `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
if KEYS[2] then
  local now = now_ms()
  local ttl = tonumber(ARGV[1])
  place(KEYS[2], ARGV[2], now + ttl, now)
  if KEYS[4] then index(KEYS[4], KEYS[3], ARGV[2], ARGV[3], now + ttl, now) end
end
return 1
`

/**
 * Adds, moves or removes a session in its user's index. The key count
 * varies: 1 on Cluster, 2 on a single server.
 *
 * KEYS[1] = user index
 * KEYS[2] = users registry (single server)
 * ARGV[1] = ttl (ms); 0 removes the entry
 * ARGV[2] = session id
 * ARGV[3] = user
 * returns = the latest expiry (ms, server clock) of the user's live sessions, 0 when none
 */
export const INDEX = LIB + `
local now = now_ms()
local ttl = tonumber(ARGV[1])
local score = nil
if ttl > 0 then score = now + ttl end
return index(KEYS[1], KEYS[2], ARGV[2], ARGV[3], score, now)
`

/**
 * Cluster only (and cleanup): the registry side of a save, touch or destroy.
 *
 * KEYS[1] = registry
 * KEYS[2] = users registry
 * ARGV[1] = session id
 * ARGV[2] = ttl (ms); '-' leaves the session's entry alone, 0 removes it
 * ARGV[3..] = pairs of user and the latest expiry (ms, server clock) of their sessions (0: none left)
 * returns = 1
 */
export const REGISTER = LIB + `
local now = now_ms()
if ARGV[2] ~= '-' then
  local ttl = tonumber(ARGV[2])
  if ttl > 0 then place(KEYS[1], ARGV[1], now + ttl, now) else place(KEYS[1], ARGV[1], nil, now) end
end
for i = 3, #ARGV, 2 do
  local last = tonumber(ARGV[i + 1])
  if last > now then place(KEYS[2], ARGV[i], last, now) else place(KEYS[2], ARGV[i], nil, now) end
end
return 1
`

/**
 * Deletes a session. The tombstone is written only when a session was there
 * to destroy: an id never stored has no save in flight that could bring it
 * back (a new id is known to no other request before its first save
 * completes). The key count varies: 2 on Cluster, 3 on a single server.
 *
 * KEYS[1] = session hash
 * KEYS[2] = tombstone
 * KEYS[3] = registry (single server)
 * ARGV[1] = tombstone ttl (ms); 0: none
 * ARGV[2] = session id
 * returns = the session's meta field (nil when none), so the caller can drop the user index entry
 */
export const DESTROY = LIB + `
local meta = redis.call('HGET', KEYS[1], '#meta')
local existed = redis.call('DEL', KEYS[1])
if existed == 1 and tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[1]) end
if KEYS[3] then place(KEYS[3], ARGV[2], nil, now_ms()) end
return meta
`

/**
 * Counts live entries, after dropping a bounded number of expired ones.
 *
 * KEYS[1] = registry
 * KEYS[2] = users registry
 * returns = {live sessions, users with a live session}
 */
export const COUNT = LIB + `
local now = now_ms()
trim(KEYS[1], now)
trim(KEYS[2], now)
return {live(KEYS[1], now), live(KEYS[2], now)}
`

/**
 * A page of live sessions. Members sort by (score, id); the position after
 * the cursor is found by ranking a probe member that sorts right after the
 * cursor's id (it holds a NUL byte, which no session id has, and is removed
 * at once), so a page costs O(log n + limit) however many entries share a score.
 *
 * KEYS[1] = registry
 * ARGV[1] = expiry (ms) of the last entry of the previous page, '' for the first page
 * ARGV[2] = id of that entry, '' for the first page
 * ARGV[3] = most entries returned
 * returns = {id, expiry (ms), ...}
 */
export const PAGE = LIB + `
local now = now_ms()
trim(KEYS[1], now)
local start = redis.call('ZCOUNT', KEYS[1], '-inf', now)
if ARGV[1] ~= '' then
  local probe = ARGV[2] .. '\\0'
  redis.call('ZADD', KEYS[1], ARGV[1], probe)
  local rank = redis.call('ZRANK', KEYS[1], probe)
  redis.call('ZREM', KEYS[1], probe)
  if rank > start then start = rank end
end
return redis.call('ZRANGE', KEYS[1], start, start + tonumber(ARGV[3]) - 1, 'WITHSCORES')
`

/**
 * A user's sessions, after dropping the expired ones.
 *
 * KEYS[1] = user index
 * returns = {session id, expiry (ms), ...}
 */
export const USER_LIST = LIB + `
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
`

/**
 * GETDEL for servers older than 6.2.
 *
 * KEYS[1] = bridge token
 * returns = its value, or nil
 */
export const TAKE = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`

/**
 * Reads only the meta field of a session, never its contents.
 *
 * KEYS[1] = session hash
 * returns = {meta, expiry (ms, server clock; 0 without a TTL)}, or nil when
 *   the session does not exist
 */
export const META = MS_OF + `
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return false end
local meta = redis.call('HGET', KEYS[1], '#meta') or '{}'
if pttl < 0 then return {meta, 0} end
return {meta, msOf(redis.call('TIME')) + pttl}
`

/** Every script with its command name and key count (undefined: it varies with the server kind and the user, and is passed per call). */
export const SCRIPTS = {
  save: { name: 'redkitSessionSave', keys: undefined, lua: SAVE },
  saveBatch: { name: 'redkitSessionSaveBatch', keys: undefined, lua: SAVE_BATCH },
  touch: { name: 'redkitSessionTouch', keys: undefined, lua: TOUCH },
  index: { name: 'redkitSessionIndex', keys: undefined, lua: INDEX },
  register: { name: 'redkitSessionRegister', keys: 2, lua: REGISTER },
  destroy: { name: 'redkitSessionDestroy', keys: undefined, lua: DESTROY },
  count: { name: 'redkitSessionCount', keys: 2, lua: COUNT },
  page: { name: 'redkitSessionPage', keys: 1, lua: PAGE },
  userList: { name: 'redkitSessionUserList', keys: 1, lua: USER_LIST },
  take: { name: 'redkitSessionTake', keys: 1, lua: TAKE },
  meta: { name: 'redkitSessionMeta', keys: 1, lua: META }
} as const satisfies Record<string, LuaScript>
