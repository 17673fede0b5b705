import { randomUUID } from 'node:crypto'
import type { CacheEngine } from './engine.js'
import type { NamespaceKeys, TagRef } from './keys.js'

/** What a loader-backed read needs to fill its key. */
export interface Load<T> {
  loader: () => T | Promise<T>
  ttl: number
  staleTtl: number
  tags: TagRef[]
}

/** The value another caller stored meanwhile, or the fill lock's token ('' to fill without the lock). */
export type Turn = { value: unknown } | { token: string }

/**
 * Stampede protection: after a miss, one caller across instances takes the
 * key's fill lock and produces the value; the others wait for it.
 */
export class Fills {
  private readonly refreshing = new Set<string>()

  constructor (private readonly engine: CacheEngine) {}

  /**
   * Waits for the key's turn. When the lock is freed without a stored value
   * (the holder failed), `retake` tries to take it again, so loaders run one
   * at a time; otherwise every waiter is told to fill at once, rather than
   * queueing one by one behind a response that will not be stored.
   */
  async turn (k: NamespaceKeys, key: string, retake: boolean): Promise<Turn> {
    const { backend, options } = this.engine
    const c = k.counters
    const full = k.entry(key)
    const lock = k.lock(key)
    const token = randomUUID()
    const deadline = Date.now() + options.lockWait
    try {
      let { locked: mine, value } = await backend.acquire(full, lock, token, options.lockTtl)
      let freed = false
      let waited = false
      for (;;) {
        const found = await this.engine.validated(k, key, value)
        if (found !== null) {
          if (mine) await this.unclaim(k, key, token)
          return { value: found.value }
        }
        if (mine) return { token }
        if (freed) return { token: '' }
        const left = deadline - Date.now()
        if (left <= 0) {
          c.lockTimeouts++
          this.engine.log.warn({ key, namespace: k.ns, waitedMs: options.lockWait },
            'redkit cache: gave up waiting for another caller to fill the key; filling it here')
          return { token: '' }
        }
        if (!waited) {
          waited = true
          c.lockWaits++
        }
        await backend.wait(full, Math.min(options.pollInterval, left))
        if (retake) {
          ({ locked: mine, value } = await backend.acquire(full, lock, token, options.lockTtl))
        } else {
          const seen = await backend.peek(full, lock)
          value = seen.value
          freed = !seen.locked
        }
      }
    } catch (err) {
      this.engine.failed(c, err, 'acquire', key)
      return { token: '' }
    }
  }

  /** Gives up a fill lock without storing, waking whoever waits; never throws. */
  async unclaim (k: NamespaceKeys, key: string, token: string): Promise<void> {
    if (token === '') return
    try {
      await this.engine.backend.release(k.entry(key), k.lock(key), token)
    } catch (err) {
      k.counters.errors++
      this.engine.log.warn({ key, namespace: k.ns, err: (err as Error).message }, 'redkit cache: could not release a fill lock; it expires with its TTL')
    }
  }

  async fill<T> (k: NamespaceKeys, key: string, load: Load<T>): Promise<T> {
    const turn = await this.turn(k, key, true)
    if ('value' in turn) return turn.value as T
    return await this.loadAndStore(k, key, load, turn.token)
  }

  /** Runs the loader and stores its value, unless a tag was invalidated while it ran. */
  async loadAndStore<T> (k: NamespaceKeys, key: string, load: Load<T>, token: string): Promise<T> {
    let value: T
    let payload: string
    let expected: number[] | null
    try {
      expected = await this.engine.snapshot(k, load.tags)
      k.counters.loaderRuns++
      value = await load.loader()
      payload = this.engine.encode(key, value)
    } catch (err) {
      await this.unclaim(k, key, token)
      throw err
    }
    if (expected === null) {
      await this.unclaim(k, key, token)
      return value
    }
    await this.engine.write(k, key, { payload, ttl: load.ttl, staleTtl: load.staleTtl, tags: load.tags, token, expected })
    return value
  }

  /** Refreshes a stale entry in the background, once per process and, through the lock, once across instances. */
  refresh<T> (k: NamespaceKeys, key: string, load: Load<T>): void {
    const full = k.entry(key)
    if (this.refreshing.has(full)) return
    this.refreshing.add(full)
    const run = async (): Promise<void> => {
      const token = randomUUID()
      if (!await this.engine.backend.tryLock(k.lock(key), token, this.engine.options.lockTtl)) return
      await this.loadAndStore(k, key, load, token)
    }
    run().catch((err: unknown) => {
      k.counters.errors++
      this.engine.log.warn({ key, namespace: k.ns, err: (err as Error).message }, 'redkit cache: background refresh failed; the stale value stays until it expires')
    }).finally(() => this.refreshing.delete(full))
  }
}
