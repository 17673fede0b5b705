import { LRUCache } from 'lru-cache'
import type { AcquireResult, Backend, WriteOp } from './backend.js'
import { formatEntry } from './entry.js'
import { VERSION_FLOOR, type TagRef } from './keys.js'
import { Waiters } from './waiters.js'

interface Stored {
  raw: string
  tags: string[]
}

/**
 * Single-instance storage on lru-cache, bounded by entry count and bytes.
 * Entries and tag versions follow the same rules as in Redis so both
 * backends behave the same; an invalidation also deletes the tag's entries
 * at once, which in process blocks nobody else.
 */
export class MemoryBackend implements Backend {
  readonly shared = false
  private readonly entries: LRUCache<string, Stored>
  private readonly tags = new Map<string, Set<string>>()
  private readonly tagVersions = new Map<string, { n: number, until: number }>()
  private readonly locks = new Map<string, { token: string, until: number }>()
  private readonly waiters = new Waiters()

  constructor (max: number, maxBytes: number) {
    this.entries = new LRUCache<string, Stored>({
      max,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => value.raw.length + key.length,
      dispose: (value, key) => { this.unfile(key, value.tags) }
    })
  }

  now (): number { return Date.now() }

  private unfile (key: string, tags: string[]): void {
    for (const tag of tags) {
      const members = this.tags.get(tag)
      if (members === undefined) continue
      members.delete(key)
      if (members.size === 0) this.tags.delete(tag)
    }
  }

  private version (key: string): number {
    const held = this.tagVersions.get(key)
    if (held === undefined) return 0
    if (held.until > Date.now()) return held.n
    this.tagVersions.delete(key)
    return 0
  }

  /** Keeps a version at least until `until`, as the Redis scripts extend its TTL. */
  private keepVersion (key: string, n: number, until: number): void {
    const held = this.tagVersions.get(key)
    this.tagVersions.set(key, { n, until: Math.max(until, held?.until ?? 0) })
  }

  private lockHeld (lock: string): boolean {
    const held = this.locks.get(lock)
    if (held === undefined) return false
    if (held.until > Date.now()) return true
    this.locks.delete(lock)
    return false
  }

  async get (key: string): Promise<string | null> {
    return this.entries.get(key)?.raw ?? null
  }

  async versions (tags: TagRef[]): Promise<number[]> {
    return tags.map((tag) => this.version(tag.version))
  }

  async set (op: WriteOp): Promise<boolean> {
    const now = Date.now()
    const life = op.ttl + op.staleTtl
    const current = op.tags.map((tag) => this.version(tag.version))
    const stored = op.expected === null || current.every((n, i) => n === op.expected![i])
    if (stored) {
      const stamp = op.tags.length === 0 ? null : Object.fromEntries(op.tags.map((tag, i) => [tag.name, current[i]!]))
      this.entries.set(op.key, { raw: formatEntry(now + op.ttl, stamp, op.payload), tags: op.tags.map((tag) => tag.set) }, { ttl: life })
      op.tags.forEach((tag, i) => {
        let members = this.tags.get(tag.set)
        if (members === undefined) {
          members = new Set()
          this.tags.set(tag.set, members)
        }
        members.add(op.key)
        this.keepVersion(tag.version, current[i]!, now + life)
      })
    }
    if (op.token !== '' && this.locks.get(op.lock)?.token === op.token) this.locks.delete(op.lock)
    this.waiters.wake(op.key)
    return stored
  }

  async acquire (key: string, lock: string, token: string, ttl: number): Promise<AcquireResult> {
    const locked = await this.tryLock(lock, token, ttl)
    return { value: await this.get(key), locked }
  }

  async peek (key: string, lock: string): Promise<AcquireResult> {
    const locked = this.lockHeld(lock)
    return { value: await this.get(key), locked }
  }

  async tryLock (lock: string, token: string, ttl: number): Promise<boolean> {
    if (this.lockHeld(lock)) return false
    this.locks.set(lock, { token, until: Date.now() + ttl })
    return true
  }

  async release (key: string, lock: string, token: string): Promise<void> {
    if (this.locks.get(lock)?.token === token) this.locks.delete(lock)
    this.waiters.wake(key)
  }

  async del (key: string): Promise<boolean> {
    return this.entries.delete(key)
  }

  async invalidate (tags: TagRef[]): Promise<number> {
    let deleted = 0
    const now = Date.now()
    for (const tag of tags) {
      this.keepVersion(tag.version, this.version(tag.version) + 1, now + VERSION_FLOOR)
      for (const key of [...this.tags.get(tag.set) ?? []]) if (this.entries.delete(key)) deleted++
      this.tags.delete(tag.set)
    }
    if (this.tagVersions.size > 10_000) {
      for (const [key, held] of this.tagVersions) if (held.until <= now) this.tagVersions.delete(key)
    }
    return deleted
  }

  async clear (_base: string, entries: string, prefix: string): Promise<number> {
    let n = 0
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(entries + prefix) && this.entries.delete(key)) n++
    }
    return n
  }

  async wait (key: string, ms: number): Promise<void> {
    await this.waiters.wait(key, ms)
  }

  async listen (): Promise<void> {}

  coherent (): boolean { return true }

  async close (): Promise<void> {
    this.entries.clear()
    this.tags.clear()
    this.locks.clear()
  }
}
