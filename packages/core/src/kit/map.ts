interface Slot<V> {
  value: V
  expiresAt: number
}

/**
 * A Map whose entries expire at a given time and that holds at most `max`
 * entries, evicting the least recently written first. Expired entries are
 * never returned; sweep() reclaims the ones nobody reads again.
 */
export class ExpiringMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>()
  readonly #max: number
  readonly #now: () => number

  constructor (max: number, now: () => number = Date.now) {
    this.#max = max
    this.#now = now
  }

  get size (): number {
    return this.#slots.size
  }

  get (key: K): V | undefined {
    const slot = this.#slots.get(key)
    if (slot === undefined) return undefined
    if (slot.expiresAt > this.#now()) return slot.value
    this.#slots.delete(key)
    return undefined
  }

  /** Writes the entry as the most recent one, evicting the oldest past `max`. */
  set (key: K, value: V, expiresAt: number): this {
    this.#slots.delete(key)
    this.#slots.set(key, { value, expiresAt })
    while (this.#slots.size > this.#max) this.#slots.delete(this.#slots.keys().next().value as K)
    return this
  }

  delete (key: K): boolean {
    return this.#slots.delete(key)
  }

  /** Drops expired entries; returns how many. */
  sweep (): number {
    const now = this.#now()
    let n = 0
    for (const [key, slot] of this.#slots) {
      if (slot.expiresAt <= now) {
        this.#slots.delete(key)
        n++
      }
    }
    return n
  }

  clear (): void {
    this.#slots.clear()
  }
}
