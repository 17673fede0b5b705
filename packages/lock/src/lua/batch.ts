import { MS_OF, US_OF } from '@redkit/core/kit'
import { HAND_OFF, PRUNE_WAITERS, REGISTER_MANY, TOKENS } from './snippets.js'

/*
 * First tries and releases of locks issued in one turn of the event loop, in
 * one script call (single server only: the locks' keys are in many slots).
 * Redis runs a script's setup once per call, not once per lock, and the
 * registry takes one ZADD and one ZREM for the lot.
 */

/**
 * Acquires ('a') and releases ('r') in issue order. An acquire here is the
 * common case of LOCK_ACQUIRE only: it takes a free lock and queues nobody;
 * a held lock (or one whose queue has its turn) answers -1, and the caller
 * sends LOCK_ACQUIRE itself. A release is LOCK_RELEASE. Each item runs
 * under pcall: an error (a key of the wrong type) fails that item alone.
 *
 * KEYS[1] = registry
 * KEYS[2..] = per item, in ARGV order: 'a': holder, fence; 'r': holder, queue, alive
 * ARGV[1] = number of items
 * ARGV[2] = fence TTL (ms)
 * ARGV[3] = wake-up channel
 * ARGV[4..] = per item: 'a', owner, ttl (ms), lock name; or 'r', "<token>|<owner>", registry entry
 * returns = per item: the token as decimal text when granted, -1 when the lock
 *   was not free, 1 or 0 for a release (as LOCK_RELEASE), or {error text}
 */
export const LOCK_BATCH = MS_OF + US_OF + TOKENS + PRUNE_WAITERS + HAND_OFF + REGISTER_MANY + `
local t = redis.call('TIME')
local text = clockText(t)
local nowUs = usOf(t)
local added, top = {}, nowUs
local removed = {}
local function acquireOne (holder, fence, owner, ttl, name)
  if not redis.call('SET', holder, text .. '|' .. owner, 'NX', 'PX', ttl) then return -1 end
  local token = issueToken(holder, fence, owner, ttl, text, ARGV[2], '', false)
  local untilUs = nowUs + tonumber(ttl) * 1000
  if untilUs > top then top = untilUs end
  added[#added + 1] = string.format('%d', untilUs)
  added[#added + 1] = 'l|' .. token .. '|' .. owner .. '|' .. name
  return token
end
local function releaseOne (holder, queue, alive, held, entry)
  local value = redis.call('GET', holder)
  if value == held then
    redis.call('DEL', holder)
  elseif value == held .. '|w' then
    handOff(holder, queue, alive, ARGV[3])
  else
    return 0
  end
  removed[#removed + 1] = entry
  return 1
end
local out = {}
local k, a = 2, 4
for i = 1, tonumber(ARGV[1]) do
  local ok, result
  if ARGV[a] == 'a' then
    ok, result = pcall(acquireOne, KEYS[k], KEYS[k + 1], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
    k, a = k + 2, a + 4
  else
    ok, result = pcall(releaseOne, KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[a + 1], ARGV[a + 2])
    k, a = k + 3, a + 3
  end
  if ok then out[i] = result else out[i] = {type(result) == 'table' and result.err or tostring(result)} end
end
registerMany(KEYS[1], added, removed, top, nowUs)
return out
`
