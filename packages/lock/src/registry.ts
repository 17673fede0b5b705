import type { HolderInfo } from './backend.js'
import { parseMember } from './backend.js'
import { LockInvalidCursorError } from './errors.js'

/*
 * The registry of held locks (layout in lua.ts): what list() pages through and
 * count() counts, instead of a SCAN of the keyspace and a round trip per lock.
 */

/*
 * Adds or moves an entry of the registry. Scores (µs) are unique within a
 * registry, so a page resumes right after the last score it listed. The
 * registry keeps a member "~" scored +inf, never listed nor counted, so that
 * releasing the last lock does not delete the key only for the next grant to
 * create it again; its TTL is set to twice the longest lease it has to cover,
 * so most grants need not set it.
 */
export const REGISTER = `
local function register (reg, entry, untilUs, nowUs, fresh)
  -- Leases that ended without a release are dropped by reads and by about one grant in eight
  -- (by the clock's last digits), so the registry stays bounded even when nobody lists it.
  if nowUs % 8 == 0 then redis.call('ZREMRANGEBYSCORE', reg, '-inf', string.format('%d', nowUs)) end
  local own = false
  if not fresh then own = redis.call('ZSCORE', reg, entry) end
  local score = string.format('%d', untilUs)
  while own ~= score and redis.call('ZCOUNT', reg, score, score) > 0 do
    untilUs = untilUs + 1
    score = string.format('%d', untilUs)
  end
  redis.call('ZADD', reg, score, entry)
  local left = math.ceil((untilUs - nowUs) / 1000)
  local ttl = redis.call('PTTL', reg)
  if ttl < left then
    if ttl == -1 then redis.call('ZADD', reg, '+inf', '~') end
    redis.call('PEXPIRE', reg, left * 2)
  end
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

// Entries whose lease ended are dropped first: each was added once, so pruning costs O(1) per grant over time.
const PRUNE_REGISTRY = `
local t = redis.call('TIME')
local now = string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
`

/**
 * KEYS: registry. ARGV: where to start ('-inf', or '(' and the last lease end listed), page size.
 * Returns {now, entry, lease end, entry, lease end, …} (server µs), soonest-ending first.
 */
export const REGISTRY_PAGE = PRUNE_REGISTRY + `
local out = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '(+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
table.insert(out, 1, now)
return out
`

/** KEYS: registry. Returns how many locks and semaphores it holds. */
export const REGISTRY_COUNT = PRUNE_REGISTRY + `
return redis.call('ZCOUNT', KEYS[1], '-inf', '(+inf')
`

/** Shards of the registry on Cluster: each is one slot, so locks spread over this many slots. */
export const CLUSTER_SHARDS = 16

/** The shard of a name: FNV-1a, so every instance picks the same one. */
export function shardOf (name: string, shards: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % shards
}

export function lockEntry (member: string, name: string): string {
  return `l|${member}|${name}`
}

export function semaphoreEntry (name: string): string {
  return `s|${name}`
}

/** A held lock (with its holder) or semaphore (whose holders are read separately), from a registry entry. */
export type Entry =
  | { kind: 'lock', name: string, holder: HolderInfo }
  | { kind: 'semaphore', name: string }

export function parseEntry (entry: string, ttl: number): Entry {
  if (entry.startsWith('s|')) return { kind: 'semaphore', name: entry.slice(2) }
  const owner = entry.indexOf('|', entry.indexOf('|', 2) + 1)
  return { kind: 'lock', name: entry.slice(owner + 1), holder: { ...parseMember(entry.slice(2, owner)), ttl } }
}

/** Where a listing resumes: a shard, and the last lease end listed in it (scores are unique in a registry). */
export interface Position {
  shard: number
  after: string | null
}

export const START: Position = { shard: 0, after: null }

export function encodeCursor (p: Position): string {
  return `${p.shard}.${p.after ?? ''}`
}

export function decodeCursor (cursor: string, shards: number): Position {
  const m = /^(\d{1,5})\.(\d{1,17})?$/.exec(cursor)
  if (m === null || Number(m[1]) >= shards) throw new LockInvalidCursorError()
  return { shard: Number(m[1]), after: m[2] ?? null }
}
