import { SERVER_NOW_MS, type LuaScript } from '@redkit/core/kit'

// Every key a script touches is declared in KEYS, and all of them share the
// namespace's hash tag, so each script runs on one Cluster slot. Scripts on
// the read and invalidation paths take one key each: a Cluster slot being
// migrated redirects single-key calls (ASK) instead of refusing them
// (TRYAGAIN) as it does multi-key calls whose keys are not all on one side.
// Time comes from the server so that instances with skewed clocks agree.

const NOW = SERVER_NOW_MS

/**
 * Writes an entry as "<freshUntil>:<stamp>\n<payload>" with a PX of ttl +
 * staleTtl, where the stamp records the current version of each tag. When an
 * expected version is given and the tag has moved since, the value may
 * predate an invalidation: nothing is stored. Otherwise the entry is filed
 * under each tag (a sorted set scored by expiry, pruned of a few expired
 * members per write), and each tag's set and version outlive the entry, so a
 * version can never fall back to a value an entry recorded. Then releases the
 * fill lock if this writer holds it, and announces the write. The key
 * count varies with the number of tags and the fill lock.
 *
 * KEYS[1] = entry
 * KEYS[2..] = for each of the n tags its member set then its version, then the fill lock when held
 * ARGV[1] = payload
 * ARGV[2] = ttl (ms): how long the entry is fresh
 * ARGV[3] = staleTtl (ms): how long it is kept after that
 * ARGV[4] = fill lock token
 * ARGV[5] = change channel, or '' to announce nothing
 * ARGV[6] = change message
 * ARGV[7] = n, the number of tags
 * ARGV[8..] = the n tag names, then for each the version it is expected at, or ''
 * returns = 1 when stored, 0 when a tag had moved (nothing stored)
 */
export const SET = `${NOW}
local n = tonumber(ARGV[7])
local ttl = tonumber(ARGV[2])
local life = ttl + tonumber(ARGV[3])
local stamp = {}
local stored = 1
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[2 * i + 1]) or '0')
  local expected = ARGV[7 + n + i]
  if expected ~= '' and tonumber(expected) ~= current then stored = 0 end
  stamp[ARGV[7 + i]] = current
end
if stored == 1 then
  local header = ''
  if n > 0 then header = cjson.encode(stamp) end
  redis.call('SET', KEYS[1], string.format('%d', now + ttl) .. ':' .. header .. '\\n' .. ARGV[1], 'PX', life)
  for i = 1, n do
    local set, version = KEYS[2 * i], KEYS[2 * i + 1]
    redis.call('ZADD', set, now + life, KEYS[1])
    local expired = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, 64)
    if #expired > 0 then redis.call('ZREM', set, unpack(expired)) end
    if redis.call('PTTL', set) < life then redis.call('PEXPIRE', set, life) end
    if redis.call('PTTL', version) < life then
      if redis.call('EXISTS', version) == 0 then redis.call('SET', version, '0', 'PX', life)
      else redis.call('PEXPIRE', version, life) end
    end
  end
end
local lock = KEYS[2 * n + 2]
if lock and redis.call('GET', lock) == ARGV[4] then redis.call('DEL', lock) end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return stored`

/**
 * Releases the fill lock if still held by this token and wakes waiters.
 *
 * KEYS[1] = fill lock
 * ARGV[1] = lock token
 * ARGV[2] = change channel, or ''
 * ARGV[3] = change message
 * returns = 1 when this token held the lock, else 0
 */
export const RELEASE = `local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then released = redis.call('DEL', KEYS[1]) end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return released`

/**
 * Deletes an entry and announces it.
 *
 * KEYS[1] = entry
 * ARGV[1] = change channel, or ''
 * ARGV[2] = change message
 * returns = 1 when the entry existed, else 0
 */
export const DEL = `local n = redis.call('UNLINK', KEYS[1])
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`

/**
 * Moves a tag to its next version, which makes every entry written before
 * a miss, and announces it. O(1) whatever the tag's size. The version lives
 * at least ARGV[3] ms, so a fill that read the old version before its loader
 * ran is refused when it writes.
 *
 * KEYS[1] = tag version
 * ARGV[1] = change channel, or ''
 * ARGV[2] = change message
 * ARGV[3] = shortest life of the version (ms)
 * returns = the new version
 */
export const INVALIDATE = `local v = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return v`

/**
 * After an invalidation: renames the tag's member set (O(1)) so later writes
 * file into a fresh one, leaving the old members for garbage collection.
 *
 * KEYS[1] = tag member set
 * KEYS[2] = detached set (its new name)
 * returns = how many members had not expired
 */
export const DETACH = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
redis.call('RENAME', KEYS[1], KEYS[2])
return n`

/**
 * Garbage collection of one batch of a detached member set: deletes each
 * entry that still carries the tag at a version older than ARGV[2] (an entry
 * rewritten since is kept), and removes the batch from the set. The key
 * count is the batch's size plus one.
 *
 * KEYS[1] = detached set
 * KEYS[2..] = the batch's entries
 * ARGV[1] = tag name
 * ARGV[2] = the tag's version after the invalidation
 * returns = how many entries were deleted
 */
export const COLLECT = `local tag, version = ARGV[1], tonumber(ARGV[2])
local deleted = 0
for i = 2, #KEYS do
  local raw = redis.call('GET', KEYS[i])
  local colon = raw and string.find(raw, ':', 1, true)
  local newline = colon and string.find(raw, '\\n', colon, true)
  if newline and newline > colon + 1 then
    local ok, stamp = pcall(cjson.decode, string.sub(raw, colon + 1, newline - 1))
    local seen = ok and type(stamp) == 'table' and tonumber(stamp[tag])
    if seen and seen < version then deleted = deleted + redis.call('UNLINK', KEYS[i]) end
  end
end
if #KEYS > 1 then redis.call('ZREM', KEYS[1], unpack(KEYS, 2)) end
return deleted`

/**
 * Step of a write while the namespace's slot is split by a migration (see
 * split-write.ts): makes a tag version live at least the entry's life,
 * creating it at 0.
 *
 * KEYS[1] = tag version
 * ARGV[1] = entry life (ms)
 * returns = the version
 */
export const KEEP_VERSION = `local life = tonumber(ARGV[1])
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], '0', 'PX', life)
  return 0
end
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
return tonumber(v)`

/**
 * Step of a split write: files an entry under a tag, scored by its expiry,
 * and prunes a few expired members.
 *
 * KEYS[1] = tag member set
 * ARGV[1] = entry key (a member, never accessed as a key)
 * ARGV[2] = entry life (ms)
 * returns = 1
 */
export const FILE_MEMBER = `${NOW}
local life = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + life, ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
return 1`

/**
 * Step of a split write: writes an entry as "<freshUntil>:<stamp>\\n<payload>",
 * fresh until server time + ttl, kept ttl + staleTtl.
 *
 * KEYS[1] = entry
 * ARGV[1] = payload
 * ARGV[2] = ttl (ms)
 * ARGV[3] = staleTtl (ms)
 * ARGV[4] = stamp (JSON of the tag versions read), or ''
 * returns = 1
 */
export const WRITE_ENTRY = `${NOW}
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', now + ttl) .. ':' .. ARGV[4] .. '\\n' .. ARGV[1], 'PX', ttl + tonumber(ARGV[3]))
return 1`

/** Every script with its command name and key count (undefined: it varies, and is passed per call). */
export const SCRIPTS = {
  set: { name: 'redkitCacheSet', keys: undefined, lua: SET },
  release: { name: 'redkitCacheRelease', keys: 1, lua: RELEASE },
  del: { name: 'redkitCacheDel', keys: 1, lua: DEL },
  invalidate: { name: 'redkitCacheInvalidate', keys: 1, lua: INVALIDATE },
  detach: { name: 'redkitCacheDetach', keys: 2, lua: DETACH },
  collect: { name: 'redkitCacheCollect', keys: undefined, lua: COLLECT },
  keepVersion: { name: 'redkitCacheKeepVersion', keys: 1, lua: KEEP_VERSION },
  fileMember: { name: 'redkitCacheFileMember', keys: 1, lua: FILE_MEMBER },
  writeEntry: { name: 'redkitCacheWriteEntry', keys: 1, lua: WRITE_ENTRY }
} as const satisfies Record<string, LuaScript>
