import type { AcquireReply, Backend, HeldEntry, HolderInfo, LockKind, LockRef } from './backend.js'
import { member, parseMember } from './backend.js'
import { HeldIndex } from './memory-registry.js'

interface Entry {
  /** member → expiry (ms, monotonic clock) */
  holders: Map<string, number>
  /** waiter id → end of lease; Map order is arrival order */
  queue: Map<string, number>
}

interface Counter {
  value: number
  expiresAt: number
}

/** Milliseconds on a clock that never goes backward within the process. */
function now (): number {
  return performance.timeOrigin + performance.now()
}

/**
 * In-process backend with the same rules as the Lua scripts: leases, FIFO
 * queue with waiter leases, and fencing tokens that fall back to the clock
 * once the counter expired.
 */
export function memoryBackend (counterTtl: number): Backend {
  const entries = new Map<string, Entry>()
  const counters = new Map<string, Counter>()
  const index = new HeldIndex()
  let wake: (waiter: string) => void = () => {}
  let grants = 0

  const id = (ref: LockRef): string => `${ref.kind}\u0000${ref.name}`

  /** Tells the registry when the last lease of this entry ends. */
  const sync = (ref: LockRef, entry: Entry | undefined): void => {
    let until: number | null = null
    for (const expiry of entry?.holders.values() ?? []) if (until === null || expiry > until) until = expiry
    index.set(id(ref), until)
  }

  const holdersOf = (entry: Entry, at: number): HolderInfo[] =>
    [...entry.holders].map(([m, expiry]) => ({ ...parseMember(m), ttl: Math.floor(expiry - at) }))

  const prune = (entry: Entry, at: number): void => {
    for (const [m, expiry] of entry.holders) if (expiry <= at) entry.holders.delete(m)
    for (const [w, lease] of entry.queue) if (lease <= at) entry.queue.delete(w)
  }

  const get = (ref: LockRef, at: number): Entry | undefined => {
    const key = id(ref)
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    prune(entry, at)
    // An empty entry stays in the map until the next sweep: deleting and re-adding one key
    // over and over makes V8's Map lookups of that key slower the bigger the map is.
    return entry.holders.size === 0 && entry.queue.size === 0 ? undefined : entry
  }

  const sweep = (at: number): void => {
    index.prune(at)
    for (const [key, counter] of counters) if (counter.expiresAt <= at) counters.delete(key)
    for (const [key, entry] of entries) {
      prune(entry, at)
      if (entry.holders.size === 0 && entry.queue.size === 0) entries.delete(key)
    }
  }

  /** The entry of ref, reusing an empty one still in the map. */
  const ensure = (ref: LockRef): Entry => {
    const key = id(ref)
    let entry = entries.get(key)
    if (entry === undefined) {
      entry = { holders: new Map(), queue: new Map() }
      entries.set(key, entry)
    }
    return entry
  }

  const nextToken = (ref: LockRef, at: number): number => {
    const key = id(ref)
    const counter = counters.get(key)
    const last = counter !== undefined && counter.expiresAt > at ? counter.value : 0
    const token = Math.max(last + 1, Math.floor(at * 1000))
    counters.set(key, { value: token, expiresAt: at + counterTtl })
    if (++grants % 10_000 === 0) sweep(at)
    return token
  }

  const notify = (ref: LockRef, entry: Entry | undefined): void => {
    if (entry === undefined || entry.queue.size === 0) return
    const free = ref.limit - entry.holders.size
    if (free <= 0) return
    let n = 0
    for (const waiter of entry.queue.keys()) {
      if (n++ >= free) break
      queueMicrotask(() => wake(waiter))
    }
  }

  const mayEnter = (entry: Entry | undefined, ref: LockRef, waiter: string | null): boolean => {
    const free = ref.limit - (entry?.holders.size ?? 0)
    if (free <= 0) return false
    if (entry === undefined || entry.queue.size === 0) return true
    if (waiter === null) return false
    let rank = 0
    for (const w of entry.queue.keys()) {
      if (w === waiter) return rank < free
      rank++
    }
    return false
  }

  return {
    acquire: async (ref, owner, ttl, waiter, lease): Promise<AcquireReply> => {
      const at = now()
      let entry = get(ref, at)
      if (mayEnter(entry, ref, waiter)) {
        entry ??= ensure(ref)
        const token = nextToken(ref, at)
        entry.holders.set(member(token, owner), at + ttl)
        if (waiter !== null) entry.queue.delete(waiter)
        sync(ref, entry)
        return String(token)
      }
      let holderTtl = -1
      for (const expiry of entry?.holders.values() ?? []) {
        const left = Math.floor(expiry - at)
        if (holderTtl < 0 || left < holderTtl) holderTtl = left
      }
      if (waiter === null) return [holderTtl, 0]
      entry ??= ensure(ref)
      // Refreshing the lease keeps the waiter's place (Map keeps insertion order).
      entry.queue.set(waiter, at + lease)
      return [holderTtl, 1]
    },
    release: async (ref, m) => {
      const at = now()
      const entry = entries.get(id(ref))
      const expiry = entry?.holders.get(m)
      if (entry === undefined || expiry === undefined) return 0
      entry.holders.delete(m)
      sync(ref, entry)
      notify(ref, get(ref, at))
      return expiry > at ? 1 : 0
    },
    extend: async (ref, m, ttl) => {
      const at = now()
      const entry = get(ref, at)
      if (entry?.holders.has(m) !== true) return 0
      entry.holders.set(m, at + ttl)
      sync(ref, entry)
      return 1
    },
    leave: async (ref, waiter) => {
      const entry = entries.get(id(ref))
      if (entry === undefined) return
      entry.queue.delete(waiter)
      notify(ref, get(ref, now()))
    },
    inspect: async (ref): Promise<HolderInfo[]> => {
      const at = now()
      const entry = get(ref, at)
      if (entry === undefined) return []
      return holdersOf(entry, at)
    },
    page: async (cursor, limit) => {
      const at = now()
      index.prune(at)
      const page = index.page(cursor, limit)
      const held: HeldEntry[] = []
      for (const key of page.keys) {
        const sep = key.indexOf('\u0000')
        const ref: LockRef = { kind: key.slice(0, sep) as LockKind, name: key.slice(sep + 1), limit: 1 }
        const entry = get(ref, at)
        if (entry !== undefined && entry.holders.size > 0) held.push({ kind: ref.kind, name: ref.name, holders: holdersOf(entry, at) })
      }
      return { entries: held, cursor: page.cursor }
    },
    count: async () => {
      index.prune(now())
      return index.size
    },
    listen: (onWake) => { wake = onWake },
    wakeUps: () => ({ subscribed: true, losses: 0 }),
    close: () => {}
  }
}
