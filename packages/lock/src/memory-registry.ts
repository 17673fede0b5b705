import { LockInvalidCursorError } from './errors.js'

interface Held {
  /** Listing order: a new entry goes last. */
  seq: number
  /** When the last lease ends (ms); null when nothing holds it. */
  until: number | null
}

/**
 * The memory backend's registry of held locks, as on Redis: count() is O(1)
 * amortised and list() pages by cursor. Ends of leases sit in a min-heap, so
 * ended entries are found without a sweep of every entry.
 */
export class HeldIndex {
  // Entries nothing holds stay (with until null) until a compaction: deleting and re-adding
  // one key over and over makes V8's Map lookups of that key slower the bigger the map is.
  readonly #held = new Map<string, Held>()
  #live = 0
  /** [until, key], possibly stale (the entry moved or went): checked when popped. */
  readonly #heap: Array<[number, string]> = []
  #seq = 0

  /** Records when the last lease of `key` ends, or that nothing holds it (null). */
  set (key: string, until: number | null): void {
    const held = this.#held.get(key)
    if (until === null) {
      if (held !== undefined && held.until !== null) this.#drop(held)
      return
    }
    if (held === undefined) {
      this.#held.set(key, { seq: ++this.#seq, until })
      this.#live++
    } else if (held.until === until) {
      return
    } else {
      if (held.until === null) this.#live++
      held.until = until
    }
    this.#push([until, key])
    // Stale heap items of extended or released entries are dropped now and then.
    if (this.#heap.length > 2 * this.#live + 1000) this.#rebuild()
  }

  /** Drops entries whose last lease ended by `now`. */
  prune (now: number): void {
    while (this.#heap.length > 0 && this.#heap[0]![0] <= now) {
      const [until, key] = this.#pop()
      const held = this.#held.get(key)
      if (held !== undefined && held.until === until) this.#drop(held)
    }
  }

  get size (): number {
    return this.#live
  }

  /** Up to `limit` keys after `cursor`, in listing order, and the next cursor (null at the end). */
  page (cursor: string | null, limit: number): { keys: string[], cursor: string | null } {
    if (cursor !== null && !/^\d{1,16}$/.test(cursor)) throw new LockInvalidCursorError()
    const after = cursor === null ? 0 : Number(cursor)
    const keys: string[] = []
    let last = after
    for (const [key, held] of this.#held) {
      if (held.seq <= after || held.until === null) continue
      if (keys.length === limit) return { keys, cursor: String(last) }
      keys.push(key)
      last = held.seq
    }
    return { keys, cursor: null }
  }

  #drop (held: Held): void {
    held.until = null
    this.#live--
    if (this.#held.size > 2 * this.#live + 1000) {
      for (const [key, h] of this.#held) if (h.until === null) this.#held.delete(key)
    }
  }

  #rebuild (): void {
    this.#heap.length = 0
    for (const [key, held] of this.#held) if (held.until !== null) this.#push([held.until, key])
  }

  #push (item: [number, string]): void {
    const heap = this.#heap
    heap.push(item)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]![0] <= item[0]) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  #pop (): [number, string] {
    const heap = this.#heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        let child = 2 * i + 1
        if (child >= heap.length) break
        if (child + 1 < heap.length && heap[child + 1]![0] < heap[child]![0]) child++
        if (heap[child]![0] >= last[0]) break
        heap[i] = heap[child]!
        i = child
      }
      heap[i] = last
    }
    return top
  }
}
