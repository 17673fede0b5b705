import { MS_OF } from '@redkit/core/kit'
import { REGISTER } from './registry.js'

/*
 * Two layouts share these scripts' helpers.
 *
 * A lock (one holder) is a plain string key, so the common case is a SET NX PX
 * plus a write of the fencing counter, and a compare-and-delete:
 *   holder  string, PX = the lease, one of
 *           "<token>|<owner>"     held, nobody has asked to wait
 *           "<token>|<owner>|w"   held, and someone joined the queue meanwhile
 *           "~"                   free, but the queue goes first (PX = the queue's life)
 *   fence   string, last fencing token issued for the name
 *   queue   zset  member waiter id, score = arrival (server µs)
 *   alive   zset  member waiter id, score = end of the waiter's lease (server ms)
 * The holder key itself tells whether anyone waits, so a free lock is granted
 * by its SET NX alone and a release without waiters is a compare-and-delete:
 * neither touches the queue keys. A refused waiter marks the holder ("|w"),
 * and the release that finds the mark hands the lock to the queue ("~").
 *
 * A semaphore (N holders) keeps its holders in a sorted set:
 *   holders zset  member "<token>|<owner>", score = expiry (server ms)
 *   fence, queue, alive as above.
 *
 * The registry lists what is held, for list() and count() without a SCAN:
 *   registry zset, one per shard (see redis.ts), scored by when the entry's
 *            lease ends (server µs, unique in the registry), kept by the scripts that grant, extend
 *            and release, and pruned of ended leases whenever it is read:
 *            "l|<token>|<owner>|<name>"  a held lock, its holder in the entry
 *            "s|<name>"                  a semaphore with holders (until its last lease ends)
 *            "~"                         scored +inf: keeps the key while nothing is held
 *            PX = up to twice its longest lease.
 * Every script declares every key it touches, all in one Cluster slot.
 *
 * Time comes from the server only (TIME, and key expiry for a lock's lease),
 * never from the application's clock. Expired semaphore holders and dead
 * waiters are pruned by the scripts that touch them.
 */

// Every script that compares lease ends, or uses JOIN_QUEUE or HAND_OFF, starts with msOf
// (a TIME reply in ms, truncated).

const CLOCK = MS_OF + `
local t = redis.call('TIME')
local nowMs = msOf(t)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
`
// Lua 5.1 prints numbers with 14 significant digits, so microsecond values
// (16 digits) are always formatted with %d before they reach Redis.

/*
 * token = max(last token + 1, server time in µs). TIME is read on every grant,
 * not only when the counter is missing: after a failover the counter can exist
 * yet lag behind tokens the old master issued, and only the clock floor keeps
 * the next token above them.
 *
 * clockText gives the clock in µs as text without float formatting: seconds
 * have 10 digits until 2286, so equal-length texts compare like their numbers.
 * advanceFence writes the counter and returns the token actually issued: the
 * clock, or last + 1 when the counter is ahead of the clock. On Redis 7+ one
 * SET ... GET both reads and writes the counter (REDIS_VERSION_NUM exists from
 * 7.0; older servers read it with GET first).
 */
const TOKENS = `
local SET_GET = redis.REDIS_VERSION_NUM ~= nil
local function clockText (t)
  return t[1] .. string.sub('00000' .. t[2], -6)
end
local function advanceFence (fence, text, counterTtl)
  local last
  if SET_GET then
    last = redis.call('SET', fence, text, 'PX', counterTtl, 'GET')
  else
    last = redis.call('GET', fence)
  end
  if last and (#last > #text or (#last == #text and last >= text)) then
    text = string.format('%d', tonumber(last) + 1)
  elseif SET_GET then
    return text
  end
  redis.call('SET', fence, text, 'PX', counterTtl)
  return text
end
`

// Adds or refreshes a waiter: arrival (µs) keeps its place, the lease keeps it alive.
const JOIN_QUEUE = `
local function joinQueue (t, queue, alive, waiter, lease)
  local nowMs = msOf(t)
  redis.call('ZADD', queue, 'NX', t[1] .. string.format('%06d', tonumber(t[2])), waiter)
  redis.call('ZADD', alive, nowMs + lease, waiter)
  redis.call('PEXPIRE', queue, lease)
  redis.call('PEXPIRE', alive, lease)
end
`

// The key lives as long as its longest-lived member.
const KEEP_UNTIL_LAST = `
local function keepUntilLast (key, nowMs)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then
    local left = tonumber(top[2]) - nowMs
    if left < 1 then left = 1 end
    redis.call('PEXPIRE', key, string.format('%d', left))
  end
end
`

const PRUNE_WAITERS = `
local function pruneWaiters (queue, alive, nowMs)
  local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', nowMs, 'LIMIT', 0, 100)
  if #dead > 0 then
    redis.call('ZREM', queue, unpack(dead))
    redis.call('ZREM', alive, unpack(dead))
  end
end
`

// Wakes the waiters at the head of the queue, as many as there are free slots.
const NOTIFY = `
local function notify (holders, queue, alive, limit, nowMs, channel)
  if redis.call('EXISTS', queue) == 0 then return end
  pruneWaiters(queue, alive, nowMs)
  redis.call('ZREMRANGEBYSCORE', holders, '-inf', nowMs)
  local free = limit - redis.call('ZCARD', holders)
  if free <= 0 then return end
  local heads = redis.call('ZRANGE', queue, 0, free - 1)
  if #heads > 0 then redis.call('PUBLISH', channel, table.concat(heads, ' ')) end
end
`

/**
 * Semaphore. KEYS: holders, fence, queue, alive, registry.
 * ARGV: owner, ttl, limit, queue ('1' = wait in the queue under the owner id, '' = do not), waiter lease, counter TTL,
 * registry entry.
 * Returns {1, token, ttl} when granted, else {0, ms until the soonest holder expires (-1 if none), queued}.
 */
export const SEM_ACQUIRE = CLOCK + PRUNE_WAITERS + KEEP_UNTIL_LAST + REGISTER + `
local limit = tonumber(ARGV[3])
local waiter = ''
if ARGV[4] == '1' then waiter = ARGV[1] end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
local held = redis.call('ZCARD', KEYS[1])
local free = limit - held
local granted = false
if free > 0 then
  if redis.call('EXISTS', KEYS[3]) == 0 then
    granted = true
  else
    pruneWaiters(KEYS[3], KEYS[4], nowMs)
    if redis.call('EXISTS', KEYS[3]) == 0 then
      granted = true
    elseif waiter ~= '' then
      local rank = redis.call('ZRANK', KEYS[3], waiter)
      granted = rank ~= false and rank < free
    end
  end
end
if granted then
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  local token = last + 1
  -- Falls back to the server clock when the counter was lost (TTL, restart without persistence, failover).
  if nowUs > token then token = nowUs end
  local tokenText = string.format('%d', token)
  redis.call('SET', KEYS[2], tokenText, 'PX', ARGV[6])
  local ttl = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], nowMs + ttl, tokenText .. '|' .. ARGV[1])
  if held == 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
  else
    keepUntilLast(KEYS[1], nowMs)
  end
  registerTop(KEYS[1], KEYS[5], ARGV[7], nowMs, nowUs)
  if waiter ~= '' then
    redis.call('ZREM', KEYS[3], waiter)
    redis.call('ZREM', KEYS[4], waiter)
  end
  return {1, token, ttl}
end
local holderTtl = -1
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then holderTtl = tonumber(first[2]) - nowMs end
local queued = 0
if waiter ~= '' then
  local lease = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[3], 'NX', string.format('%d', nowUs), waiter)
  redis.call('ZADD', KEYS[4], nowMs + lease, waiter)
  redis.call('PEXPIRE', KEYS[3], lease)
  redis.call('PEXPIRE', KEYS[4], lease)
  queued = 1
end
return {0, holderTtl, queued}
`

/** KEYS: holders, queue, alive, registry. ARGV: member, limit, channel, registry entry. Returns 1 if the caller still held the lock. */
export const SEM_RELEASE = CLOCK + PRUNE_WAITERS + NOTIFY + REGISTER + `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
registerTop(KEYS[1], KEYS[4], ARGV[4], nowMs, nowUs)
notify(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]), nowMs, ARGV[3])
if tonumber(score) > nowMs then return 1 end
return 0
`

/** KEYS: holders, registry. ARGV: member, ttl, registry entry. Returns the new TTL, or 0 when the caller no longer holds the lock. */
export const SEM_EXTEND = CLOCK + KEEP_UNTIL_LAST + REGISTER + `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if tonumber(score) <= nowMs then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', nowMs + ttl, ARGV[1])
keepUntilLast(KEYS[1], nowMs)
registerTop(KEYS[1], KEYS[2], ARGV[3], nowMs, nowUs)
return ttl
`

/** KEYS: holders, queue, alive. ARGV: waiter id, limit, channel. A waiter that gives up leaves the queue. */
export const SEM_LEAVE = CLOCK + PRUNE_WAITERS + NOTIFY + `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
notify(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]), nowMs, ARGV[3])
return 1
`

/** KEYS: holders. Returns {now, member, expiry, member, expiry, …} of live holders. */
export const SEM_INSPECT = CLOCK + `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', nowMs), '+inf', 'WITHSCORES')
local out = {nowMs}
for i = 1, #live do out[#out + 1] = live[i] end
return out
`

/*
 * Gives a released lock to the first live waiter: the holder key becomes "~"
 * for as long as the queue lives, so newcomers keep out while the head comes
 * for it, and the head is woken. With no live waiter the lock is simply free.
 */
const HAND_OFF = `
local function handOff (holder, queue, alive, channel)
  local t = redis.call('TIME')
  pruneWaiters(queue, alive, msOf(t))
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if not head then
    redis.call('DEL', holder)
    return
  end
  local left = redis.call('PTTL', queue)
  if left < 1 then left = 1 end
  redis.call('SET', holder, '~', 'PX', left)
  redis.call('PUBLISH', channel, head)
end
`

/**
 * Lock. KEYS: holder, fence, queue, alive, registry.
 * ARGV: owner, ttl, waiter lease (0 = do not queue; else wait in the queue under the owner id), counter TTL,
 * lock name, and the wake-up channel when the caller may already be in the queue (a retry after a refusal).
 * Returns the token as decimal text when granted, else {ms until the holder's lease ends (-1 if free), queued}.
 * The lock is granted when its holder key is missing, or it is "~" and the caller is the first live waiter
 * (or no live waiter is left).
 */
export const LOCK_ACQUIRE = MS_OF + PRUNE_WAITERS + TOKENS + JOIN_QUEUE + REGISTER + `
local owner = ARGV[1]
local lease = tonumber(ARGV[3])
local channel = ARGV[6]
local t = redis.call('TIME')
local text = clockText(t)
-- The new holder's entry in the registry, ending with its lease.
local function registered (token)
  local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
  -- The entry names the new token, so it is not in the registry yet.
  register(KEYS[5], 'l|' .. token .. '|' .. owner .. '|' .. ARGV[5], nowUs + tonumber(ARGV[2]) * 1000, nowUs, true)
  return token
end
-- The first two live waiters, after dead ones are pruned.
local function liveHeads ()
  pruneWaiters(KEYS[3], KEYS[4], msOf(t))
  return redis.call('ZRANGE', KEYS[3], 0, 1)
end
-- The caller, granted as the head, leaves the queue; the mark tells its release that others still wait.
local function leaveAsHead (heads)
  redis.call('ZREM', KEYS[3], owner)
  redis.call('ZREM', KEYS[4], owner)
  if heads[2] ~= nil then return '|w' end
  return ''
end
-- Writes the holder and the counter; nobody sees the first value if the counter forces a higher token.
if redis.call('SET', KEYS[1], text .. '|' .. owner, 'NX', 'PX', ARGV[2]) then
  local mark = ''
  if channel then
    -- A waiter found the lock free because the last lease ran out. Waiters keep
    -- their order: an earlier live waiter gets the turn and is woken; otherwise
    -- this one leaves the queue and marks the lock if others still wait.
    local heads = liveHeads()
    if heads[1] ~= nil and heads[1] ~= owner then
      joinQueue(t, KEYS[3], KEYS[4], owner, lease)
      redis.call('SET', KEYS[1], '~', 'PX', lease)
      redis.call('PUBLISH', channel, heads[1])
      return {-1, 1}
    end
    mark = leaveAsHead(heads)
  end
  local token = advanceFence(KEYS[2], text, ARGV[4])
  if token ~= text or mark ~= '' then redis.call('SET', KEYS[1], token .. '|' .. owner .. mark, 'PX', ARGV[2]) end
  return registered(token)
end
local value = redis.call('GET', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
local held = left
if value == '~' then
  local heads = liveHeads()
  if heads[1] == nil or (lease > 0 and heads[1] == owner) then
    local mark = ''
    if heads[1] ~= nil then mark = leaveAsHead(heads) end
    local token = advanceFence(KEYS[2], text, ARGV[4])
    redis.call('SET', KEYS[1], token .. '|' .. owner .. mark, 'PX', ARGV[2])
    return registered(token)
  end
  held = -1
end
if lease == 0 then return {held, 0} end
joinQueue(t, KEYS[3], KEYS[4], owner, lease)
if value == '~' then
  -- The queue's turn lasts as long as the queue.
  if left < lease then redis.call('PEXPIRE', KEYS[1], lease) end
elseif string.sub(value, -2) ~= '|w' then
  redis.call('SET', KEYS[1], value .. '|w', 'KEEPTTL')
end
return {held, 1}
`

/**
 * Lock. KEYS: holder, queue, alive, registry. ARGV: "<token>|<owner>", channel, registry entry.
 * Returns 1 if the caller still held the lock. Without the waiters' mark it is
 * a compare-and-delete; with it, the queue gets the lock and its head a message.
 */
export const LOCK_RELEASE = MS_OF + PRUNE_WAITERS + HAND_OFF + `
local value = redis.call('GET', KEYS[1])
if value == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[3])
  return 1
end
if value ~= ARGV[1] .. '|w' then return 0 end
handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[3])
return 1
`

/**
 * Lock. KEYS: holder, registry. ARGV: "<token>|<owner>", ttl, registry entry.
 * Returns 1 when the caller still held the lock and its lease now ends in ttl ms.
 */
export const LOCK_EXTEND = REGISTER + `
local value = redis.call('GET', KEYS[1])
if value ~= ARGV[1] and value ~= ARGV[1] .. '|w' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
register(KEYS[2], ARGV[3], nowUs + tonumber(ARGV[2]) * 1000, nowUs)
return 1
`

/** Lock. KEYS: holder, queue, alive. ARGV: waiter id, channel. A waiter that gives up leaves the queue. */
export const LOCK_LEAVE = MS_OF + PRUNE_WAITERS + HAND_OFF + `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
-- While the queue has its turn, the next live waiter gets it, or nobody waits and the lock is free.
if redis.call('GET', KEYS[1]) == '~' then handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[2]) end
return 1
`

/** Lock. KEYS: holder. Returns {holder value or nil, remaining ms}; "~" and a "|w" mark are read by the caller. */
export const LOCK_INSPECT = `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`
