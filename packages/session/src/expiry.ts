interface Item {
  at: number
  id: string
}

/**
 * Min-heap of (expiry, id) for the in-memory backend, so counting live
 * sessions only pops what has expired instead of visiting every session.
 * A session whose expiry moves gets a new item; the old one is recognised
 * as stale when it surfaces (its expiry no longer matches) and dropped.
 * The heap is rebuilt from the live sessions once stale items outnumber
 * them, so it stays within a constant factor of the session count.
 */
export class ExpiryHeap {
  private items: Item[] = []

  get size (): number {
    return this.items.length
  }

  push (at: number, id: string): void {
    const items = this.items
    items.push({ at, id })
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (items[parent]!.at <= at) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = { at, id }
  }

  /** Pops every item due by `now`, passing each to `expire`. */
  drain (now: number, expire: (id: string, at: number) => void): void {
    while (this.items.length > 0 && this.items[0]!.at <= now) {
      const top = this.pop()
      expire(top.id, top.at)
    }
  }

  /** Rebuilds from the current expiries when stale items dominate. */
  compact (live: number, entries: () => Iterable<[string, number]>): void {
    if (this.items.length <= 2 * live + 1024) return
    this.items = []
    for (const [id, at] of entries()) this.push(at, id)
  }

  clear (): void {
    this.items = []
  }

  private pop (): Item {
    const items = this.items
    const top = items[0]!
    const last = items.pop()!
    if (items.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && items[right]!.at < items[left]!.at ? right : left
      if (items[child]!.at >= last.at) break
      items[i] = items[child]!
      i = child
    }
    items[i] = last
    return top
  }
}
