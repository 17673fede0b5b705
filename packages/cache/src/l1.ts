import { LRUCache } from 'lru-cache'
import type { Entry } from './entry.js'

/**
 * In-process copies of hot entries. A copy is only kept when no change
 * arrived while it was being read (the epoch did not move), so a read that
 * raced with an invalidation never lands here.
 */
export class L1 {
  private readonly copies: LRUCache<string, Entry>
  private epochValue = 0

  constructor (max: number, private readonly ttl: number) {
    this.copies = new LRUCache<string, Entry>({ max })
  }

  get epoch (): number { return this.epochValue }

  /** Marks that something changed: reads in flight must not be copied. */
  bump (): void { this.epochValue++ }

  get (full: string, now: number): Entry | undefined {
    const entry = this.copies.get(full)
    if (entry === undefined) return undefined
    if (entry.freshUntil > now) return entry
    this.copies.delete(full)
    return undefined
  }

  put (full: string, entry: Entry, epoch: number, now: number): void {
    if (epoch !== this.epochValue) return
    const ttl = Math.min(this.ttl, entry.freshUntil - now)
    if (ttl >= 1) this.copies.set(full, entry, { ttl: Math.floor(ttl) })
  }

  drop (full: string): void {
    this.epochValue++
    this.copies.delete(full)
  }

  dropPrefix (prefix: string): void {
    this.epochValue++
    for (const key of [...this.copies.keys()]) if (key.startsWith(prefix)) this.copies.delete(key)
  }

  /** Drops the copies under the prefix filed under any of the tags. */
  dropTagged (prefix: string, tags: string[]): void {
    this.epochValue++
    for (const [key, entry] of [...this.copies.entries()]) {
      if (key.startsWith(prefix) && entry.stamp !== null && tags.some((tag) => Object.hasOwn(entry.stamp!, tag))) this.copies.delete(key)
    }
  }

  clear (): void {
    this.epochValue++
    this.copies.clear()
  }
}
