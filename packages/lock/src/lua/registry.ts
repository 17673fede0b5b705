import { US_OF } from '@redkit/core/kit'

/*
 * Reads of the registry of held locks (layout in ../lua.ts). Entries whose
 * lease ended are dropped first: each was added once, so pruning costs O(1)
 * per grant over time.
 */
const PRUNE_REGISTRY = US_OF + `
local now = string.format('%d', usOf(redis.call('TIME')))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
`

/*
 * Entries that share a score are ordered by member, byte by byte (Lua's own
 * string comparison follows the server's locale, so it is not used).
 * skipTied counts the entries at score that sort up to last: those
 * the previous page listed, or would have, had they been there then.
 */
const SKIP_TIED = `
local function sortsAfter (a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local function skipTied (reg, score, last)
  local skip = 0
  while true do
    local tied = redis.call('ZRANGEBYSCORE', reg, score, score, 'LIMIT', skip, 100)
    for i = 1, #tied do
      if sortsAfter(tied[i], last) then return skip + i - 1 end
    end
    skip = skip + #tied
    if #tied < 100 then return skip end
  end
end
`

/**
 * A page of held locks and semaphores, soonest-ending first; entries ending
 * at the same time in member order.
 *
 * KEYS[1] = registry
 * ARGV[1] = page size
 * ARGV[2] = the lease end of the last entry listed (server µs); absent from the start
 * ARGV[3] = that entry; absent to resume after every entry ending then (cursors of
 *           earlier versions, whose lease ends were unique in the registry)
 * returns = {now, entry, lease end, entry, lease end, …} (server µs)
 */
export const REGISTRY_PAGE = PRUNE_REGISTRY + SKIP_TIED + `
local from, skip = '-inf', 0
if ARGV[3] then
  from = ARGV[2]
  skip = skipTied(KEYS[1], from, ARGV[3])
elseif ARGV[2] then
  from = '(' .. ARGV[2]
end
local out = redis.call('ZRANGEBYSCORE', KEYS[1], from, '(+inf', 'WITHSCORES', 'LIMIT', skip, ARGV[1])
table.insert(out, 1, now)
return out
`

/**
 * KEYS[1] = registry
 * returns = how many locks and semaphores it holds
 */
export const REGISTRY_COUNT = PRUNE_REGISTRY + `
return redis.call('ZCOUNT', KEYS[1], '-inf', '(+inf')
`
