import { SERVER_NOW_MS } from '@redkit/core/kit'

/*
 * Every script reads the clock with TIME (milliseconds, truncated), so the
 * decision never depends on an app server's clock, and writes every key it
 * touches with a TTL in the same call.
 *
 * ARGV: limit, window (ms), cost, consume ('1' takes the cost, '0' only looks),
 * what a refusal does to a fixed window ('k' keeps its end, 'c' restarts it,
 * 'e' doubles it per refusal; other algorithms ignore it).
 * Reply: { allowed (1|0), remaining, resetAt (ms), retryAfter (ms), now (ms),
 * refused (requests refused in the open fixed window, this one included; 0 otherwise) }.
 */

const clock = `
${SERVER_NOW_MS}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local consume = ARGV[4] == '1'
local onRefusal = ARGV[5]
`

/*
 * Every script decides ARGV[6] (default 1) identical requests in a row, as if
 * each had been sent on its own at the same server time, and replies with
 * their decisions one after the other (five numbers each: allowed, remaining,
 * resetAt, retryAfter, refused; then the server time they share). The app sends the requests of one
 * event-loop turn that share a key and a limit this way: one round trip and
 * one script call where a burst from one client would have cost one each.
 */
function decider (body: string, once: { before: string, after: string } = { before: '', after: '' }): string {
  return clock + once.before + 'local function decide ()' + body + `end
local n = tonumber(ARGV[6]) or 1
if n == 1 then
  local r = decide()
  ${once.after}
  return { r[1], r[2], r[3], r[4], now, r[5] }
end
local out = {}
for i = 1, n do
  local r = decide()
  for j = 1, 5 do out[#out + 1] = r[j] end
end
${once.after}
out[#out + 1] = now
return out
`
}

/**
 * Fixed window: a window opens at the first request after the previous one
 * closed and lasts `window` ms (the key's TTL). The key is a hash: u = cost
 * accepted in the window, d = requests refused in it. Refused requests take
 * nothing, but are counted, and may move the window's end (onRefusal).
 */
export const FIXED_WINDOW = decider(`
local key = KEYS[1]
local used = 0
local refused = 0
local ttl = redis.call('PTTL', key)
if ttl > 0 then
  local state = redis.call('HMGET', key, 'u', 'd')
  used = tonumber(state[1]) or 0
  refused = tonumber(state[2]) or 0
end
if used + cost > limit then
  if consume then
    refused = redis.call('HINCRBY', key, 'd', 1)
    if onRefusal == 'c' then
      ttl = window
      redis.call('PEXPIRE', key, ttl)
    elseif onRefusal == 'e' then
      ttl = math.min(window * 2 ^ (refused - 1), ${Number.MAX_SAFE_INTEGER})
      redis.call('PEXPIRE', key, string.format('%d', ttl))
    end
  end
  return { 0, limit - used, now + ttl, ttl, refused }
end
if not consume then
  -- No open window: nothing to wait for.
  return { 1, limit - used, ttl > 0 and now + ttl or now, 0, refused }
end
used = used + cost
if ttl > 0 then
  redis.call('HINCRBY', key, 'u', cost)
else
  -- Missing, or left without a TTL by something else: a new window starts.
  if ttl == -1 then redis.call('DEL', key) end
  redis.call('HSET', key, 'u', used)
  redis.call('PEXPIRE', key, window)
  ttl = window
end
return { 1, limit - used, now + ttl, 0, refused }
`)

/**
 * Sliding window counter: one hash per key with the start of the current
 * sub-window (s), the cost accepted in it (c) and in the sub-window before (p).
 * The grid of sub-windows [s, s + window) is anchored at the request that
 * found no state; it rolls forward one window at a time and is re-anchored
 * once both sub-windows are over, which is also when the key expires.
 * estimate = p * (window - (now - s)) / window + c, kept in integers
 * (everything multiplied by window) so no rounding decides a request.
 */
export const SLIDING_COUNTER = decider(`
local key = KEYS[1]
local state = redis.call('HMGET', key, 's', 'p', 'c')
local s = tonumber(state[1])
local p = tonumber(state[2]) or 0
local c = tonumber(state[3]) or 0
local moved = true
if not s or now - s >= 2 * window then
  s = now
  p = 0
  c = 0
elseif now - s >= window then
  s = s + window
  p = c
  c = 0
else
  moved = false
end
local elapsed = now - s
if elapsed < 0 then elapsed = 0 end
local weighted = p * (window - elapsed)
local allowed = weighted + (c + cost) * window <= limit * window
if allowed and consume then
  c = c + cost
  if moved then
    redis.call('HSET', key, 's', s, 'p', p, 'c', c)
    -- The state is empty from s + 2 * window on; the key goes then.
    redis.call('PEXPIRE', key, s + 2 * window - now)
  else
    -- Same sub-window: only the count changes, and the expiry stays right.
    redis.call('HINCRBY', key, 'c', cost)
  end
end
local remaining = math.floor((limit * window - weighted - c * window) / window)
if remaining < 0 then remaining = 0 end
local resetAt = now
if c > 0 then
  resetAt = s + 2 * window
elseif p > 0 then
  resetAt = s + window
end
if allowed then
  return { 1, remaining, resetAt, 0, 0 }
end
-- The first ms at which the estimate has decayed enough for this cost.
local room = limit - c - cost
local retryAt
if room < 0 then
  retryAt = s + window + math.floor(((c + cost - limit) * window + c - 1) / c)
else
  retryAt = s + math.floor(((p - room) * window + p - 1) / p)
end
return { 0, remaining, resetAt, retryAt - now, 0 }
`)

/**
 * Sliding log: KEYS[1] is a sorted set of accepted requests (member
 * '<seq>:<cost>', score = time in ms), KEYS[2] a hash with the running sum of
 * their costs (n) and a sequence (s). A request at time t sees the requests
 * with score in (t - window, t].
 *
 * The checks of one call share the server time, so the state is read and
 * pruned once before them and written once after them: a burst of n checks
 * costs one ZADD of its accepted entries, not n rounds of reads and writes.
 */
const LOG_BEFORE = `
local log = KEYS[1]
local meta = KEYS[2]
local cutoff = now - window

local function costOf (member)
  return tonumber(string.match(member, ':(%d+)$')) or 0
end
local function sum (members)
  local total = 0
  for i = 1, #members do total = total + costOf(members[i]) end
  return total
end

local meta_values = redis.call('HMGET', meta, 'n', 's')
local stored = meta_values[1]
local seq = tonumber(meta_values[2]) or 0
local used
if stored then
  used = tonumber(stored)
else
  -- The sum is derived state; rebuild it if the hash went missing.
  used = sum(redis.call('ZRANGE', log, 0, -1))
end
local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
local changed = not stored
if #expired > 0 then
  used = used - sum(expired)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
  changed = true
end
-- Entries accepted by this call (score, member, ...), all at now; written after the last check.
local added = {}
local addedCost = {}
local newestAt
local newestRead = false
local function newest ()
  if not newestRead then
    newestRead = true
    local top = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
    if #top > 0 then newestAt = tonumber(top[2]) end
  end
  return newestAt
end
`

const LOG_AFTER = `
if #added > 0 then redis.call('ZADD', log, unpack(added)) end
if changed then
  if not newest() then
    redis.call('DEL', log, meta)
  else
    local left = newestAt + window - now
    redis.call('HSET', meta, 'n', used, 's', seq)
    redis.call('PEXPIRE', log, left)
    redis.call('PEXPIRE', meta, left)
  end
end
`

export const SLIDING_LOG = decider(`
local allowed = used + cost <= limit
if allowed and consume then
  seq = seq + 1
  added[#added + 1] = now
  added[#added + 1] = seq .. ':' .. cost
  addedCost[#addedCost + 1] = cost
  used = used + cost
  changed = true
  newestRead = true
  newestAt = now
end

local resetAt = now
if not newest() then
  used = 0
else
  resetAt = newestAt + window
end

if allowed then
  return { 1, limit - used, resetAt, 0, 0 }
end
-- Walk the oldest entries until enough cost has expired for this request;
-- every entry costs at least 1, so 'need' entries always suffice. Entries
-- this call accepted are the newest, all at now.
local need = used + cost - limit
local oldest = redis.call('ZRANGE', log, 0, need - 1, 'WITHSCORES')
local freed = 0
for i = 1, #oldest, 2 do
  freed = freed + costOf(oldest[i])
  if freed >= need then return { 0, limit - used, resetAt, tonumber(oldest[i + 1]) + window - now, 0 } end
end
for i = 1, #addedCost do
  freed = freed + addedCost[i]
  if freed >= need then return { 0, limit - used, resetAt, window, 0 } end
end
return { 0, limit - used, resetAt, resetAt - now, 0 }
`, { before: LOG_BEFORE, after: LOG_AFTER })

/**
 * Token bucket, stored as the time the bucket will be full again ("theoretical
 * arrival time"): tokens(t) = limit - (tat - t) * limit / window. A full bucket
 * and a missing key are the same state, so the TTL is the time until full.
 */
export const TOKEN_BUCKET = decider(`
local key = KEYS[1]
local interval = window / limit
local eps = 1e-6
local tat = tonumber(redis.call('GET', key)) or now
if tat < now then tat = now end
local nextTat = tat + cost * interval
local allowAt = nextTat - window
if allowAt > now + eps then
  local remaining = math.floor((window - (tat - now)) / interval + eps)
  return { 0, remaining, math.ceil(tat), math.ceil(allowAt - now), 0 }
end
if consume then
  tat = nextTat
  redis.call('SET', key, string.format('%.17g', tat), 'PX', math.max(1, math.ceil(tat - now)))
end
local remaining = math.floor((window - (tat - now)) / interval + eps)
return { 1, remaining, math.ceil(tat), 0, 0 }
`)
