import { MS_OF, US_OF } from '@redkit/core/kit'
import { HAND_OFF, JOIN_QUEUE, PRUNE_WAITERS, REGISTER, TOKENS } from './snippets.js'

/*
 * Lock scripts: one holder in a plain string key (layout in ../lua.ts). All
 * keys of a lock, and its registry, share one Cluster slot.
 */

/**
 * Takes the lock when its holder key is missing, or it is "~" and the caller
 * is the first live waiter (or no live waiter is left); otherwise queues the
 * caller when asked to.
 *
 * KEYS[1] = holder ("<token>|<owner>", "|w" appended once someone waits, or "~")
 * KEYS[2] = fence (last token issued)
 * KEYS[3] = queue (zset: waiter by arrival, server µs)
 * KEYS[4] = alive (zset: waiter by end of its lease, server ms)
 * KEYS[5] = registry
 * ARGV[1] = owner (also the waiter id)
 * ARGV[2] = ttl (ms)
 * ARGV[3] = waiter lease (ms); 0 = do not queue
 * ARGV[4] = fence TTL (ms)
 * ARGV[5] = lock name
 * ARGV[6] = wake-up channel, only when the caller may already be in the queue (a retry after a refusal)
 * returns = the token as decimal text when granted, else {ms until the
 *   holder's lease ends (-1 if free), queued (1|0)}
 */
export const LOCK_ACQUIRE = US_OF + TOKENS + REGISTER + `
local owner = ARGV[1]
local channel = ARGV[6]
local t = redis.call('TIME')
local text = clockText(t)
-- The one place a grant happens: the token, the holder, the registry.
local function granted (mark, rewrite)
  local token = issueToken(KEYS[1], KEYS[2], owner, ARGV[2], text, ARGV[4], mark, rewrite)
  local nowUs = usOf(t)
  register(KEYS[5], 'l|' .. token .. '|' .. owner .. '|' .. ARGV[5], nowUs + tonumber(ARGV[2]) * 1000, nowUs)
  return token
end
local taken = redis.call('SET', KEYS[1], text .. '|' .. owner, 'NX', 'PX', ARGV[2])
-- A free lock on a first try: no queue to keep order with (only a waiter's retry carries the
-- channel). Returning here, before the queue's functions below are defined, spares Redis
-- creating them on the common path.
if taken and not channel then return granted('', false) end
` + MS_OF + PRUNE_WAITERS + JOIN_QUEUE + `
local lease = tonumber(ARGV[3])
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
if taken then
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
  return granted(leaveAsHead(heads), false)
end
local value = redis.call('GET', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
local held = left
if value == '~' then
  local heads = liveHeads()
  if heads[1] == nil or (lease > 0 and heads[1] == owner) then
    local mark = ''
    if heads[1] ~= nil then mark = leaveAsHead(heads) end
    return granted(mark, true)
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
 * Without the waiters' mark a compare-and-delete; with it, the queue gets
 * the lock and its head a message.
 *
 * KEYS[1] = holder
 * KEYS[2] = queue
 * KEYS[3] = alive
 * KEYS[4] = registry
 * ARGV[1] = "<token>|<owner>"
 * ARGV[2] = wake-up channel
 * ARGV[3] = registry entry
 * returns = 1 if the caller still held the lock, else 0
 */
export const LOCK_RELEASE = `
local value = redis.call('GET', KEYS[1])
if value == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[3])
  return 1
end
if value ~= ARGV[1] .. '|w' then return 0 end
` + MS_OF + PRUNE_WAITERS + HAND_OFF + `
handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[3])
return 1
`

/**
 * Moves the end of the holder's lease.
 *
 * KEYS[1] = holder
 * KEYS[2] = registry
 * ARGV[1] = "<token>|<owner>"
 * ARGV[2] = ttl (ms)
 * ARGV[3] = registry entry
 * returns = 1 when the caller still held the lock and its lease now ends in ttl ms, else 0
 */
export const LOCK_EXTEND = US_OF + REGISTER + `
local value = redis.call('GET', KEYS[1])
if value ~= ARGV[1] and value ~= ARGV[1] .. '|w' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local nowUs = usOf(redis.call('TIME'))
register(KEYS[2], ARGV[3], nowUs + tonumber(ARGV[2]) * 1000, nowUs)
return 1
`

/**
 * A waiter that gives up leaves the queue. While the queue has its turn, the
 * next live waiter gets it, or nobody waits and the lock is free.
 *
 * KEYS[1] = holder
 * KEYS[2] = queue
 * KEYS[3] = alive
 * ARGV[1] = waiter id
 * ARGV[2] = wake-up channel
 * returns = 1
 */
export const LOCK_LEAVE = MS_OF + PRUNE_WAITERS + HAND_OFF + `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[1]) == '~' then handOff(KEYS[1], KEYS[2], KEYS[3], ARGV[2]) end
return 1
`

/**
 * The holder as stored; "~" and a "|w" mark are read by the caller.
 *
 * KEYS[1] = holder
 * returns = {holder value or nil, remaining ms}
 */
export const LOCK_INSPECT = `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`
