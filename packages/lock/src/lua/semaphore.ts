import { CLOCK, JOIN_QUEUE, KEEP_UNTIL_LAST, NOTIFY, PRUNE_WAITERS, REGISTER } from './snippets.js'

/*
 * Semaphore scripts: N holders in a sorted set (layout in ../lua.ts). All keys
 * of a semaphore, and its registry, share one Cluster slot.
 */

/**
 * Takes a slot when one is free and no live waiter is ahead of the caller;
 * otherwise queues the caller when asked to.
 *
 * KEYS[1] = holders (zset: "<token>|<owner>" by expiry, server ms)
 * KEYS[2] = fence (last token issued)
 * KEYS[3] = queue (zset: waiter by arrival, server µs)
 * KEYS[4] = alive (zset: waiter by end of its lease, server ms)
 * KEYS[5] = registry
 * ARGV[1] = owner (also the waiter id)
 * ARGV[2] = ttl (ms)
 * ARGV[3] = limit (most holders)
 * ARGV[4] = '1' to wait in the queue under the owner id, '' not to
 * ARGV[5] = waiter lease (ms)
 * ARGV[6] = fence TTL (ms)
 * ARGV[7] = registry entry
 * returns = {1, token, ttl (ms)} when granted, else {0, ms until the soonest
 *   holder expires (-1 if none), queued (1|0)}
 */
export const SEM_ACQUIRE = CLOCK + PRUNE_WAITERS + KEEP_UNTIL_LAST + JOIN_QUEUE + REGISTER + `
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
  joinQueue(t, KEYS[3], KEYS[4], waiter, tonumber(ARGV[5]))
  queued = 1
end
return {0, holderTtl, queued}
`

/**
 * Gives a slot back and wakes as many waiters as there are free slots.
 *
 * KEYS[1] = holders
 * KEYS[2] = queue
 * KEYS[3] = alive
 * KEYS[4] = registry
 * ARGV[1] = member ("<token>|<owner>")
 * ARGV[2] = limit
 * ARGV[3] = wake-up channel
 * ARGV[4] = registry entry
 * returns = 1 if the caller still held its slot, else 0
 */
export const SEM_RELEASE = CLOCK + PRUNE_WAITERS + NOTIFY + REGISTER + `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
registerTop(KEYS[1], KEYS[4], ARGV[4], nowMs, nowUs)
notify(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]), nowMs, ARGV[3])
if tonumber(score) > nowMs then return 1 end
return 0
`

/**
 * Moves the end of a holder's lease.
 *
 * KEYS[1] = holders
 * KEYS[2] = registry
 * ARGV[1] = member ("<token>|<owner>")
 * ARGV[2] = ttl (ms)
 * ARGV[3] = registry entry
 * returns = the new ttl (ms), or 0 when the caller no longer holds a slot
 */
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

/**
 * A waiter that gives up leaves the queue; the waiters it held back are woken.
 *
 * KEYS[1] = holders
 * KEYS[2] = queue
 * KEYS[3] = alive
 * ARGV[1] = waiter id
 * ARGV[2] = limit
 * ARGV[3] = wake-up channel
 * returns = 1
 */
export const SEM_LEAVE = CLOCK + PRUNE_WAITERS + NOTIFY + `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
notify(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[2]), nowMs, ARGV[3])
return 1
`

/**
 * The live holders, with the server time to turn their expiries into TTLs.
 *
 * KEYS[1] = holders
 * returns = {now (ms), member, expiry (ms), member, expiry, …}
 */
export const SEM_INSPECT = CLOCK + `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', nowMs), '+inf', 'WITHSCORES')
local out = {nowMs}
for i = 1, #live do out[#out + 1] = live[i] end
return out
`
