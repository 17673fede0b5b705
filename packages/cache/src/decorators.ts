import type { Cache, CachedOptions } from './cache.js'
import { CacheInvalidArgumentError } from './errors.js'

/** Where a decorated method finds its cache: `this.cache` unless `from` says otherwise. */
export interface DecoratorSource<This> {
  from?: (self: This) => Cache
}

export type CacheableOptions<This, A extends unknown[]> = CachedOptions<A> & DecoratorSource<This>

export interface CacheInvalidateOptions<This, A extends unknown[]> extends DecoratorSource<This> {
  /** Tags to invalidate once the method has succeeded. */
  tags: string[] | ((...args: A) => string[])
}

type AsyncMethod<This, A extends unknown[], R> = (this: This, ...args: A) => Promise<R>

// The cache lives on the instance (it comes from the app), not on the class,
// so it is looked up on each call.
function cacheOf<This> (self: This, from: ((self: This) => Cache) | undefined, method: string): Cache {
  const cache = from !== undefined ? from(self) : (self as { cache?: Cache } | undefined)?.cache
  if (cache === undefined || typeof cache.cached !== 'function') {
    throw new CacheInvalidArgumentError(`${method}: no cache on this instance; set this.cache or pass { from: (self) => … }`)
  }
  return cache
}

/**
 * Caches an async method's result by its arguments, like `cache.cached()`:
 * the default key is `<method name>:<JSON of the arguments>`, and concurrent
 * misses run the method once across instances.
 *
 *   class Users {
 *     constructor (readonly cache: Cache) {}
 *     @Cacheable({ ttl: 60_000, tags: (id: number) => [`user:${id}`] })
 *     async find (id: number) { … }
 *   }
 */
export function Cacheable<This, A extends unknown[], R> (opts: CacheableOptions<This, A> = {}) {
  return function (method: AsyncMethod<This, A, R>, context: ClassMethodDecoratorContext<This, AsyncMethod<This, A, R>>): AsyncMethod<This, A, R> {
    const { from, ...cachedOptions } = opts
    const name = cachedOptions.name ?? String(context.name)
    // One wrapper per cache, so its options are checked once, not per call.
    const wrappers = new WeakMap<Cache, (...args: A) => Promise<R>>()
    return function (this: This, ...args: A): Promise<R> {
      let cache: Cache
      try {
        cache = cacheOf(this, from, name)
      } catch (err) {
        return Promise.reject(err)
      }
      let wrapped = wrappers.get(cache)
      if (wrapped === undefined) {
        wrapped = cache.cached(method, { ...cachedOptions, name }) as (...args: A) => Promise<R>
        wrappers.set(cache, wrapped)
      }
      return wrapped.apply(this, args)
    }
  }
}

/** Invalidates tags after an async method succeeds; a method that throws invalidates nothing. */
export function CacheInvalidate<This, A extends unknown[], R> (opts: CacheInvalidateOptions<This, A>) {
  if (opts === null || typeof opts !== 'object' || (typeof opts.tags !== 'function' && !Array.isArray(opts.tags))) {
    throw new CacheInvalidArgumentError('CacheInvalidate needs { tags: string[] | (...args) => string[] }')
  }
  return function (method: AsyncMethod<This, A, R>, context: ClassMethodDecoratorContext<This, AsyncMethod<This, A, R>>): AsyncMethod<This, A, R> {
    const name = String(context.name)
    return async function (this: This, ...args: A): Promise<R> {
      const cache = cacheOf(this, opts.from, name)
      const result = await method.apply(this, args)
      const tags = typeof opts.tags === 'function' ? opts.tags(...args) : opts.tags
      await cache.invalidate({ tags })
      return result
    }
  }
}
