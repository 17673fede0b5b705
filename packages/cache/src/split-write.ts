import type { Redkit, RedkitScript } from '@redkit/core'
import { SERVER_NOW_MS } from '@redkit/core/kit'
import type { WriteOp } from './backend.js'

/*
 * The write of an entry, one key per command, for when the namespace's Cluster
 * slot is being migrated: the one-script write declares the entry, its tags
 * and the fill lock, and Redis refuses such a script (TRYAGAIN) for as long as
 * those keys are split between the two masters, while it redirects (ASK)
 * single-key commands. The steps keep the script's guarantees without its
 * atomicity: each tag version is made to outlive the entry before the entry
 * is written, and the entry is stamped with the versions read then, so an
 * invalidation that lands between the steps makes the entry a miss.
 */

/**
 * Makes a tag version live at least the entry's life (creating it at 0) and
 * returns it. KEYS[1] = tag version. ARGV[1] = entry life (ms). Returns the version.
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
 * Files an entry under a tag, scored by its expiry, and prunes a few expired
 * members. KEYS[1] = tag set. ARGV[1] = entry key (a member, not accessed),
 * ARGV[2] = entry life (ms). Returns 1.
 */
export const FILE_MEMBER = `${SERVER_NOW_MS}
local life = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + life, ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
if redis.call('PTTL', KEYS[1]) < life then redis.call('PEXPIRE', KEYS[1], life) end
return 1`

/**
 * Writes an entry as "<freshUntil>:<stamp>\\n<payload>", fresh until server
 * time + ttl, kept ttl + staleTtl. KEYS[1] = entry. ARGV[1] = payload,
 * ARGV[2] = ttl (ms), ARGV[3] = staleTtl (ms), ARGV[4] = stamp (JSON of tag
 * versions, or ''). Returns 1.
 */
export const WRITE_ENTRY = `${SERVER_NOW_MS}
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', now + ttl) .. ':' .. ARGV[4] .. '\\n' .. ARGV[1], 'PX', ttl + tonumber(ARGV[3]))
return 1`

export interface SplitScripts {
  keepVersion: RedkitScript<number>
  fileMember: RedkitScript<number>
  writeEntry: RedkitScript<number>
}

export function defineSplitScripts (redkit: Redkit): SplitScripts {
  return {
    keepVersion: redkit.defineScript<number>('redkitCacheKeepVersion', KEEP_VERSION, 1),
    fileMember: redkit.defineScript<number>('redkitCacheFileMember', FILE_MEMBER, 1),
    writeEntry: redkit.defineScript<number>('redkitCacheWriteEntry', WRITE_ENTRY, 1)
  }
}

/**
 * Stores the entry unless a tag moved past the expected version; the caller
 * then releases the fill lock and announces the write, as the script would.
 */
export async function splitWrite (scripts: SplitScripts, op: WriteOp): Promise<boolean> {
  const life = op.ttl + op.staleTtl
  const versions = await Promise.all(op.tags.map(async (tag) => await scripts.keepVersion([tag.version], [life])))
  if (op.expected !== null && versions.some((v, i) => v !== op.expected![i])) return false
  await Promise.all(op.tags.map(async (tag) => await scripts.fileMember([tag.set], [op.key, life])))
  const stamp = op.tags.length === 0 ? '' : JSON.stringify(Object.fromEntries(op.tags.map((tag, i) => [tag.name, versions[i]])))
  await scripts.writeEntry([op.key], [op.payload, op.ttl, op.staleTtl, stamp])
  return true
}
