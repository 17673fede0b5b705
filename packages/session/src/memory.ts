import {
  META_FIELD, parseMeta, type IdPage, type IndexCleanupReport, type IndexEntry, type LoadedRaw, type SavePlan,
  type SessionBackend, type SessionCounts, type StoredMeta
} from './backend.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { SessionInvalidCursorError } from './errors.js'
import { ExpiryHeap } from './expiry.js'
import type { ResolvedStoreOptions } from './options.js'

interface Entry {
  fields: Map<string, string>
  expiresAt: number
}

const SWEEP_INTERVAL = 30_000

/** Removes the oldest entries of a Map (insertion order) until it fits. */
function trim<K, V> (map: Map<K, V>, max: number, onEvict?: (key: K, value: V) => void): void {
  while (map.size > max) {
    const first = map.entries().next().value
    if (first === undefined) return
    map.delete(first[0])
    onEvict?.(first[0], first[1])
  }
}

/**
 * Single-process backend with the same semantics as the Redis one. Values
 * are kept as the same JSON strings, so callers never share object references.
 * Sessions are evicted least recently used first once maxEntries is reached.
 */
export class MemoryBackend implements SessionBackend {
  private readonly sessions = new Map<string, Entry>()
  private readonly tombstones = new Map<string, number>()
  private readonly users = new Map<string, Map<string, number>>()
  private readonly tokens = new Map<string, { value: string, expiresAt: number }>()
  private readonly expiries = new ExpiryHeap()
  private readonly timer: NodeJS.Timeout

  constructor (private readonly options: ResolvedStoreOptions) {
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL)
    this.timer.unref()
  }

  private live (id: string): Entry | undefined {
    const entry = this.sessions.get(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.sessions.delete(id)
      this.unindex(parseMeta(entry.fields.get(META_FIELD))?.u, id)
      return undefined
    }
    return entry
  }

  private buried (id: string): boolean {
    const until = this.tombstones.get(id)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.tombstones.delete(id)
    return false
  }

  private index (user: string, id: string, expiresAt: number): void {
    let entries = this.users.get(user)
    if (entries === undefined) {
      entries = new Map()
      this.users.set(user, entries)
    }
    entries.set(id, expiresAt)
  }

  private unindex (user: string | undefined, id: string): void {
    if (user === undefined) return
    const entries = this.users.get(user)
    entries?.delete(id)
    if (entries?.size === 0) this.users.delete(user)
  }

  async load (id: string): Promise<LoadedRaw | null> {
    const entry = this.live(id)
    if (entry === undefined) return null
    // Re-insert so eviction drops the least recently used session first.
    this.sessions.delete(id)
    this.sessions.set(id, entry)
    return Object.fromEntries(entry.fields)
  }

  async save (plan: SavePlan): Promise<boolean> {
    if (this.buried(plan.id)) return false
    let entry = this.live(plan.id)
    if (plan.mode === 'update' && entry === undefined) return false
    if (plan.mode !== 'update' || entry === undefined) entry = { fields: new Map(), expiresAt: 0 }
    for (let i = 0; i < plan.set.length; i += 2) entry.fields.set(plan.set[i]!, plan.set[i + 1]!)
    for (const name of plan.del) entry.fields.delete(name)
    entry.expiresAt = Date.now() + plan.ttlMs
    this.sessions.delete(plan.id)
    this.sessions.set(plan.id, entry)
    this.due(plan.id, entry.expiresAt)
    trim(this.sessions, this.options.maxEntries, (id, evicted) => this.unindex(parseMeta(evicted.fields.get(META_FIELD))?.u, id))
    if (plan.previousUser !== undefined && plan.previousUser !== plan.user) this.unindex(plan.previousUser, plan.id)
    if (plan.user !== undefined) this.index(plan.user, plan.id, entry.expiresAt)
    return true
  }

  async touch (id: string, ttlMs: number, user: string | undefined): Promise<boolean> {
    const entry = this.live(id)
    if (entry === undefined) return false
    entry.expiresAt = Date.now() + ttlMs
    this.due(id, entry.expiresAt)
    if (user !== undefined) this.index(user, id, entry.expiresAt)
    return true
  }

  async destroy (id: string, tombstone: boolean): Promise<void> {
    const entry = this.live(id)
    this.sessions.delete(id)
    // As on Redis: an id never stored has no save in flight to block.
    if (tombstone && entry !== undefined) {
      this.tombstones.set(id, Date.now() + this.options.tombstoneTtlMs)
      trim(this.tombstones, this.options.maxEntries)
    }
    this.unindex(parseMeta(entry?.fields.get(META_FIELD))?.u, id)
  }

  async * ids (): AsyncIterable<string> {
    const now = Date.now()
    for (const [id, entry] of [...this.sessions]) {
      if (entry.expiresAt > now) yield id
    }
  }

  async clear (): Promise<void> {
    this.sessions.clear()
    this.users.clear()
    this.expiries.clear()
  }

  async listUser (user: string): Promise<IndexEntry[]> {
    const entries = this.users.get(user)
    if (entries === undefined) return []
    const out: IndexEntry[] = []
    for (const [id] of [...entries]) {
      const session = this.live(id)
      if (session === undefined) {
        this.unindex(user, id)
        continue
      }
      out.push({ id, expires: session.expiresAt, meta: session.fields.get(META_FIELD) ?? '{}' })
    }
    return out
  }

  async meta (id: string): Promise<StoredMeta | null> {
    // Reading metadata does not count as a use: the eviction order stays.
    const entry = this.live(id)
    return entry === undefined ? null : { id, meta: entry.fields.get(META_FIELD) ?? '{}', expiresAt: entry.expiresAt }
  }

  /** Ids in sorted order; the cursor is the last id returned. */
  async page (cursorText: string | undefined, limit: number): Promise<IdPage> {
    const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText)
    if (cursor !== undefined && cursor.kind !== 'memory') throw new SessionInvalidCursorError()
    const after = cursor?.after
    const now = Date.now()
    const rest: string[] = []
    for (const [id, entry] of this.sessions) {
      if (entry.expiresAt > now && (after === undefined || id > after)) rest.push(id)
    }
    rest.sort()
    const ids = rest.slice(0, limit)
    const last = ids[ids.length - 1]
    return { ids, cursor: rest.length > limit && last !== undefined ? encodeCursor({ kind: 'memory', after: last }) : null }
  }

  /** Drops what has expired (popped off the expiry heap), then both counts are sizes. */
  async count (): Promise<SessionCounts> {
    this.expiries.drain(Date.now(), (id, at) => {
      const entry = this.sessions.get(id)
      if (entry === undefined || entry.expiresAt !== at) return
      this.sessions.delete(id)
      this.unindex(parseMeta(entry.fields.get(META_FIELD))?.u, id)
    })
    return { sessions: this.sessions.size, users: this.users.size }
  }

  private due (id: string, at: number): void {
    this.expiries.push(at, id)
    this.expiries.compact(this.sessions.size, () => this.expiryEntries())
  }

  private * expiryEntries (): Iterable<[string, number]> {
    for (const [id, entry] of this.sessions) yield [id, entry.expiresAt]
  }

  async cleanup (): Promise<IndexCleanupReport> {
    const report: IndexCleanupReport = { indexes: 0, checked: 0, removed: 0 }
    for (const [user, entries] of [...this.users]) {
      report.indexes++
      for (const id of [...entries.keys()]) {
        report.checked++
        const session = this.live(id)
        if (session !== undefined && parseMeta(session.fields.get(META_FIELD))?.u === user) continue
        // live() may have dropped it already when the session had just expired.
        if (entries.has(id)) this.unindex(user, id)
        report.removed++
      }
    }
    return report
  }

  async putToken (key: string, value: string, ttlMs: number): Promise<void> {
    this.tokens.set(key, { value, expiresAt: Date.now() + ttlMs })
    trim(this.tokens, this.options.maxEntries)
  }

  async takeToken (key: string): Promise<string | null> {
    const token = this.tokens.get(key)
    if (token === undefined) return null
    this.tokens.delete(key)
    return token.expiresAt > Date.now() ? token.value : null
  }

  private sweep (): void {
    const now = Date.now()
    for (const [id, entry] of this.sessions) {
      if (entry.expiresAt <= now) {
        this.sessions.delete(id)
        this.unindex(parseMeta(entry.fields.get(META_FIELD))?.u, id)
      }
    }
    for (const [id, until] of this.tombstones) if (until <= now) this.tombstones.delete(id)
    for (const [key, token] of this.tokens) if (token.expiresAt <= now) this.tokens.delete(key)
  }

  close (): void {
    clearInterval(this.timer)
  }
}
