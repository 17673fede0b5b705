import { MS_OF, US_OF } from '@redkit/core/kit'

/*
 * Lua fragments the lock, semaphore and registry scripts are assembled from
 * (layouts in ../lua.ts). Each defines local functions or variables; a script
 * includes each fragment it uses once, after the fragments that one needs.
 */

/** Sets t (the TIME reply), nowMs and nowUs; for scripts that compare lease ends. Needs nothing. */
export const CLOCK = MS_OF + US_OF + `
local t = redis.call('TIME')
local nowMs = msOf(t)
local nowUs = usOf(t)
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
export const TOKENS = `
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
-- A grant's token, for a holder key SET NX wrote as "<text>|<owner>": the key is written
-- again only when its value must change (a token past the clock, the waiters' mark, or
-- rewrite, when it held the queue's "~").
local function issueToken (holder, fence, owner, ttl, text, counterTtl, mark, rewrite)
  local token = advanceFence(fence, text, counterTtl)
  if rewrite or token ~= text or mark ~= '' then redis.call('SET', holder, token .. '|' .. owner .. mark, 'PX', ttl) end
  return token
end
`

/** Adds or refreshes a waiter: arrival (µs) keeps its place, the lease keeps it alive. Needs msOf. */
export const JOIN_QUEUE = `
local function joinQueue (t, queue, alive, waiter, lease)
  local nowMs = msOf(t)
  redis.call('ZADD', queue, 'NX', t[1] .. string.format('%06d', tonumber(t[2])), waiter)
  redis.call('ZADD', alive, nowMs + lease, waiter)
  redis.call('PEXPIRE', queue, lease)
  redis.call('PEXPIRE', alive, lease)
end
`

/** The key lives as long as its longest-lived member. */
export const KEEP_UNTIL_LAST = `
local function keepUntilLast (key, nowMs)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then
    local left = tonumber(top[2]) - nowMs
    if left < 1 then left = 1 end
    redis.call('PEXPIRE', key, string.format('%d', left))
  end
end
`

/** Drops up to 100 waiters whose lease ended. */
export const PRUNE_WAITERS = `
local function pruneWaiters (queue, alive, nowMs)
  local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', nowMs, 'LIMIT', 0, 100)
  if #dead > 0 then
    redis.call('ZREM', queue, unpack(dead))
    redis.call('ZREM', alive, unpack(dead))
  end
end
`

/** Wakes the waiters at the head of the queue, as many as there are free slots. Needs PRUNE_WAITERS. */
export const NOTIFY = `
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

/*
 * Gives a released lock to the first live waiter: the holder key becomes "~"
 * for as long as the queue lives, so newcomers keep out while the head comes
 * for it, and the head is woken. With no live waiter the lock is simply free.
 * Needs msOf and PRUNE_WAITERS.
 */
export const HAND_OFF = `
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

/*
 * Adds or moves an entry of the registry, scored by the end of its lease.
 * Entries may share a score: Redis orders them by member, and a page resumes
 * from its last score and member (see REGISTRY_PAGE). The registry keeps a
 * member of 256 "~" scored +inf, never listed nor counted, so that releasing
 * the last lock does not delete the key only for the next grant to create it
 * again; its TTL is set to twice the longest lease it has to cover, so most
 * grants need not set it. That member is longer than Redis'
 * zset-max-listpack-value, so the registry is a skiplist from its first entry:
 * each grant and release then costs O(log N), where a listpack of up to 128
 * entries was scanned and shifted by each ZADD and ZREM.
 */
export const REGISTER = `
-- Leases that ended without a release are dropped by reads and by about one grant in eight
-- (by the clock's last digits), so the registry stays bounded even when nobody lists it.
local function pruneSometimes (reg, nowUs)
  if nowUs % 8 == 0 then redis.call('ZREMRANGEBYSCORE', reg, '-inf', string.format('%d', nowUs)) end
end
-- The registry outlives the lease ending at untilUs.
local function keepRegistry (reg, untilUs, nowUs)
  local left = math.ceil((untilUs - nowUs) / 1000)
  local ttl = redis.call('PTTL', reg)
  if ttl < left then
    if ttl == -1 then redis.call('ZADD', reg, '+inf', string.rep('~', 256)) end
    redis.call('PEXPIRE', reg, left * 2)
  end
end
local function register (reg, entry, untilUs, nowUs)
  pruneSometimes(reg, nowUs)
  redis.call('ZADD', reg, string.format('%d', untilUs), entry)
  keepRegistry(reg, untilUs, nowUs)
end
-- A semaphore's entry ends with its last live holder.
local function registerTop (holders, reg, entry, nowMs, nowUs)
  local top = redis.call('ZRANGE', holders, -1, -1, 'WITHSCORES')
  if top[2] and tonumber(top[2]) > nowMs then
    register(reg, entry, tonumber(top[2]) * 1000, nowUs)
  else
    redis.call('ZREM', reg, entry)
  end
end
`

/**
 * REGISTER for many locks at once: drops the entries of released locks, then
 * adds flat {lease end (µs, as text), entry, …}, the latest ending at topUs.
 * Needs REGISTER.
 */
export const REGISTER_MANY = REGISTER + `
local function registerMany (reg, added, removed, topUs, nowUs)
  if #removed > 0 then redis.call('ZREM', reg, unpack(removed)) end
  if #added == 0 then return end
  pruneSometimes(reg, nowUs)
  redis.call('ZADD', reg, unpack(added))
  keepRegistry(reg, topUs, nowUs)
end
`
