import type { HolderInfo } from './backend.js'
import { parseMember } from './backend.js'
import { LockInvalidCursorError } from './errors.js'

/*
 * The registry of held locks (layout in lua.ts): what list() pages through and
 * count() counts, instead of a SCAN of the keyspace and a round trip per lock.
 */

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

/**
 * Where a listing resumes: a shard, and the lease end and entry listed last in it. Entries
 * may share a lease end, and Redis orders those by entry, so the next page starts after both.
 */
export interface Position {
  shard: number
  after: string | null
  /** The entry listed last; null in cursors of earlier versions, whose lease ends were unique. */
  entry: string | null
}

export const START: Position = { shard: 0, after: null, entry: null }

/** "<shard>.", "<shard>.<lease end>" (earlier versions) or "<shard>.<lease end>.<entry>". */
export function encodeCursor (p: Position): string {
  if (p.after === null) return `${p.shard}.`
  return p.entry === null ? `${p.shard}.${p.after}` : `${p.shard}.${p.after}.${p.entry}`
}

// An entry as written by the scripts: "l|<token>|<owner>|<name>" or "s|<name>".
const CURSOR = /^(\d{1,5})\.(?:(\d{1,17})(?:\.((?:l\|\d{1,17}\|[^|]*\||s\|)[^]+))?)?$/

export function decodeCursor (cursor: string, shards: number): Position {
  const m = CURSOR.exec(cursor)
  if (m === null || Number(m[1]) >= shards) throw new LockInvalidCursorError()
  return { shard: Number(m[1]), after: m[2] ?? null, entry: m[3] ?? null }
}
