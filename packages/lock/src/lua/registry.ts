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

/**
 * A page of held locks and semaphores, soonest-ending first.
 *
 * KEYS[1] = registry
 * ARGV[1] = where to start: '-inf', or '(' and the last lease end listed (server µs)
 * ARGV[2] = page size
 * returns = {now, entry, lease end, entry, lease end, …} (server µs)
 */
export const REGISTRY_PAGE = PRUNE_REGISTRY + `
local out = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
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
