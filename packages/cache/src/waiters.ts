/**
 * Callers waiting for a key to be filled, woken by whoever fills it (or, on
 * Redis, by a change message from another instance), with a timeout so a
 * missed wake-up only costs one poll interval.
 */
export class Waiters {
  readonly #byKey = new Map<string, Set<() => void>>()

  async wait (key: string, ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      let set = this.#byKey.get(key)
      if (set === undefined) {
        set = new Set()
        this.#byKey.set(key, set)
      }
      const done = (): void => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0 && this.#byKey.get(key) === set) this.#byKey.delete(key)
        resolve()
      }
      const timer = setTimeout(done, ms)
      set.add(done)
    })
  }

  wake (key: string): void {
    const set = this.#byKey.get(key)
    if (set !== undefined) for (const done of [...set]) done()
  }

  /** Wakes every waiter on a key that starts with the prefix. */
  wakePrefix (prefix: string): void {
    for (const key of [...this.#byKey.keys()]) if (key.startsWith(prefix)) this.wake(key)
  }

  wakeAll (): void {
    for (const key of [...this.#byKey.keys()]) this.wake(key)
  }
}
