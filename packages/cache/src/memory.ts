import { LRUCache } from 'lru-cache'
import type { AcquireResult, Backend, Invalidated, WriteOp } from './backend.js'
import { Waiters } from './waiters.js'

interface Stored {
  raw: string
  tags: string[]
}

/**
 * Single-instance storage on lru-cache, bounded by entry count and bytes.
 * Entries keep the same "<freshUntil>:<payload>" form as in Redis so both
 * backends behave the same.
 */
export class MemoryBackend implements Backend {
  readonly shared = false
  private readonly entries: LRUCache<string, Stored>
  private readonly tags = new Map<string, Map<string, number>>()
  private readonly locks = new Map<string, { token: string, until: number }>()
  private readonly waiters = new Waiters()

  constructor (max: number, maxBytes: number) {
    this.entries = new LRUCache<string, Stored>({
      max,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => value.raw.length + key.length,
      dispose: (value, key) => { this.untag(key, value.tags) }
    })
  }

  now (): number { return Date.now() }

  private untag (key: string, tags: string[]): void {
    for (const tag of tags) {
      const members = this.tags.get(tag)
      if (members === undefined) continue
      members.delete(key)
      if (members.size === 0) this.tags.delete(tag)
    }
  }

  private wake (key: string): void {
    this.waiters.wake(key)
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

  async set (op: WriteOp): Promise<void> {
    const now = Date.now()
    const life = op.ttl + op.staleTtl
    this.entries.set(op.key, { raw: `${now + op.ttl}:${op.payload}`, tags: op.tags }, { ttl: life })
    for (const tag of op.tags) {
      let members = this.tags.get(tag)
      if (members === undefined) {
        members = new Map()
        this.tags.set(tag, members)
      }
      members.set(op.key, now + life)
    }
    if (op.token !== '' && this.locks.get(op.lock)?.token === op.token) this.locks.delete(op.lock)
    this.wake(op.key)
  }

  async acquire (key: string, lock: string, token: string, ttl: number): Promise<AcquireResult> {
    const value = await this.get(key)
    if (value !== null) return { value, locked: false }
    return { value: null, locked: await this.tryLock(lock, token, ttl) }
  }

  async peek (key: string, lock: string): Promise<AcquireResult> {
    return { value: await this.get(key), locked: this.lockHeld(lock) }
  }

  async tryLock (lock: string, token: string, ttl: number): Promise<boolean> {
    if (this.lockHeld(lock)) return false
    this.locks.set(lock, { token, until: Date.now() + ttl })
    return true
  }

  async release (key: string, lock: string, token: string): Promise<void> {
    if (this.locks.get(lock)?.token === token) this.locks.delete(lock)
    this.wake(key)
  }

  async del (keys: string[]): Promise<number> {
    let n = 0
    for (const key of keys) if (this.entries.delete(key)) n++
    return n
  }

  async invalidate (tags: string[]): Promise<Invalidated> {
    let deleted = 0
    const keys: string[] = []
    for (const tag of tags) {
      const members = this.tags.get(tag)
      if (members === undefined) continue
      for (const key of [...members.keys()]) {
        keys.push(key)
        if (this.entries.delete(key)) deleted++
      }
      this.tags.delete(tag)
    }
    return { deleted, keys }
  }

  async clear (prefix: string): Promise<number> {
    let n = 0
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && this.entries.delete(key)) n++
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
