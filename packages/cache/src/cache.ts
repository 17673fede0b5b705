import { checkTtl, invalid } from './args.js'
import type { CacheEngine } from './engine.js'
import type { NamespaceKeys } from './keys.js'
import type { CacheStats } from './stats.js'

export type { CacheStats, NamespaceStats } from './stats.js'

export interface SetOptions {
  /** Time to live in ms; defaults to the plugin's `ttl`. */
  ttl?: number
  /** Tags to invalidate the entry by. */
  tags?: string[]
}

export interface WrapOptions extends SetOptions {
  /** Window in ms after `ttl` during which the old value is served while one refresh runs. */
  staleTtl?: number
}

export interface InvalidateOptions {
  tags: string[]
}

export interface CachedOptions<A extends unknown[]> extends Omit<WrapOptions, 'tags'> {
  /** Builds the cache key from the arguments; defaults to `<name>:<JSON of the arguments>`. */
  key?: (...args: A) => string
  /** Key prefix for the default key; defaults to the function's name. */
  name?: string
  tags?: string[] | ((...args: A) => string[])
}

export interface Cache {
  readonly namespace: string
  /** The fresh value, or undefined. */
  get: <T = unknown>(key: string) => Promise<T | undefined>
  set: (key: string, value: unknown, opts?: SetOptions) => Promise<void>
  /** True when an entry was deleted. */
  del: (key: string) => Promise<boolean>
  /** The cached value, or the loader's, run once across callers and instances. */
  wrap: <T>(key: string, loader: () => T | Promise<T>, opts?: WrapOptions) => Promise<T>
  /** Deletes every entry of this namespace filed under any of the tags; returns how many. */
  invalidate: (opts: InvalidateOptions) => Promise<number>
  /** Deletes every entry of this namespace whose key starts with `prefix` (taken literally); returns how many. */
  clear: (prefix?: string) => Promise<number>
  /** The same API on another namespace. */
  ns: (name: string) => Cache
  /** Counters of every namespace. */
  stats: () => CacheStats
  /** Wraps a function so its results are cached by arguments. */
  cached: <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, opts?: CachedOptions<A>) => (...args: A) => Promise<Awaited<R>>
}

/** The public API, bound to one namespace. */
export class Namespace implements Cache {
  readonly namespace: string

  constructor (private readonly engine: CacheEngine, private readonly k: NamespaceKeys) {
    this.namespace = k.ns
  }

  // Returns the engine's promise as is: one less await on the hit path.
  get<T = unknown> (key: string): Promise<T | undefined> {
    return this.engine.get(this.k, key) as Promise<T | undefined>
  }

  async set (key: string, value: unknown, opts?: SetOptions): Promise<void> {
    await this.engine.set(this.k, key, value, opts)
  }

  async del (key: string): Promise<boolean> {
    return await this.engine.del(this.k, key)
  }

  async wrap<T> (key: string, loader: () => T | Promise<T>, opts?: WrapOptions): Promise<T> {
    return await this.engine.wrap(this.k, key, loader, opts)
  }

  async invalidate (opts: InvalidateOptions): Promise<number> {
    return await this.engine.invalidate(this.k, opts)
  }

  async clear (prefix?: string): Promise<number> {
    return await this.engine.clear(this.k, prefix)
  }

  ns (name: string): Cache {
    return this.engine.handle(name)
  }

  stats (): CacheStats {
    return this.engine.stats()
  }

  cached<A extends unknown[], R> (fn: (...args: A) => R | Promise<R>, opts: CachedOptions<A> = {}): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') invalid('cached() needs a function')
    const name = opts.name ?? fn.name
    if (opts.key === undefined && name === '') invalid('cached() needs opts.key or opts.name for an anonymous function')
    const keyOf = opts.key ?? ((...args: A) => `${name}:${JSON.stringify(args)}`)
    const { tags, ttl, staleTtl } = opts
    checkTtl(ttl, 'ttl', 0, 1)
    checkTtl(staleTtl, 'staleTtl', 0, 0)
    const wrap = this.wrap.bind(this)
    return async function (this: unknown, ...args: A): Promise<Awaited<R>> {
      const key = keyOf(...args)
      const tagList = typeof tags === 'function' ? tags(...args) : tags
      return await wrap(key, async () => await fn.apply(this, args), {
        ...(ttl !== undefined ? { ttl } : {}),
        ...(staleTtl !== undefined ? { staleTtl } : {}),
        ...(tagList !== undefined ? { tags: tagList } : {})
      })
    }
  }
}
