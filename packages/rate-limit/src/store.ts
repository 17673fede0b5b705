import type { FastifyRateLimitStore } from '@fastify/rate-limit'
import type { OnRefusal } from './backend.js'
import { RateLimitUnsupportedOptionError } from './errors.js'
import type { Limiter, RateLimitDecision } from './limiter.js'
import { resolveLimit, type Algorithm, type OnRedisError, type ResolvedLimit } from './options.js'

/** Store options; also read from a route's `config.rateLimit`. */
export interface StoreOptions {
  algorithm?: Algorithm
  onRedisError?: OnRedisError
  deadline?: number
  /** Units each request takes. */
  cost?: number
  /** Namespace of the store's keys, so two stores do not share counters. */
  nameSpace?: string
}

export interface StoreResult { current: number, ttl: number }
export type StoreCallback = (err: Error | null, result?: StoreResult) => void

export interface RateLimitStore extends FastifyRateLimitStore {
  incr: (key: string, cb: StoreCallback, timeWindow: number, max: number) => void
  read: (key: string, cb: StoreCallback, timeWindow: number, max: number) => void
  child: (routeOptions: object) => RateLimitStore
}

/** The constructor @fastify/rate-limit calls with its settings; assignable to its `FastifyRateLimitStoreCtor`. */
export type RateLimitStoreClass = new (settings?: object) => RateLimitStore

interface RouteInfo { method?: unknown, url?: unknown }

const DEFAULT_NAMESPACE = 'frl'

/**
 * @fastify/rate-limit options a store implements, and why each has no
 * meaning outside a fixed window: they count or move a window of attempts.
 */
const FIXED_ONLY: Record<string, string> = {
  ban: 'it counts the requests refused in a window, and only a fixed window has a count of attempts per window',
  continueExceeding: 'it restarts the window at each refused request, and only a fixed window has a window that starts and ends',
  exponentialBackoff: 'it doubles the window at each refused request, and only a fixed window has a window that starts and ends'
}

function rootNamespace (limiter: Limiter): string {
  const n = ++limiter.stores
  return n === 1 ? DEFAULT_NAMESPACE : `${DEFAULT_NAMESPACE}${n}`
}

/** The store options set in `source` (e.g. @fastify/rate-limit settings), among `names`. */
export function pickStoreOptions (source: Record<string, unknown>, names: ReadonlyArray<keyof StoreOptions>): StoreOptions {
  const out: Record<string, unknown> = {}
  for (const name of names) if (source[name] !== undefined) out[name] = source[name]
  return out as StoreOptions
}

const LIMIT_NAMES = ['algorithm', 'onRedisError', 'deadline', 'cost'] as const

function isSet (settings: Record<string, unknown>, name: string): boolean {
  const value = settings[name]
  return name === 'ban' ? typeof value === 'number' && value >= 0 : value === true
}

/**
 * The refusal behaviour @fastify/rate-limit's settings ask for; throws
 * FST_REDKIT_RATE_LIMIT_UNSUPPORTED_OPTION where the algorithm gives them no meaning.
 */
function onRefusalOf (settings: Record<string, unknown>, algorithm: Algorithm): OnRefusal {
  if (algorithm !== 'fixed') {
    for (const name of Object.keys(FIXED_ONLY)) {
      if (isSet(settings, name)) throw new RateLimitUnsupportedOptionError(name, algorithm, FIXED_ONLY[name]!)
    }
    return 'keep'
  }
  // As in @fastify/rate-limit's own stores, continueExceeding wins over exponentialBackoff.
  if (settings.continueExceeding === true) return 'restart'
  return settings.exponentialBackoff === true ? 'backoff' : 'keep'
}

/**
 * What @fastify/rate-limit expects: `current` is the number of attempts in the
 * window, so `current > max` means refused and `current - max` is the number
 * of refusals it compares with `ban`. A peek of an empty key reports ttl 0.
 */
function toResult (decision: RateLimitDecision, max: number, consume: boolean): StoreResult {
  // Let through unchecked (fail-open): nothing was counted, as with skipOnError on a store error.
  if (decision.degraded) return { current: 0, ttl: 0 }
  const ttl = Math.max(0, decision.resetAt - decision.now)
  if (!decision.allowed) return { current: max + Math.max(consume ? 1 : 0, decision.refused), ttl: decision.retryAfter }
  return { current: max - decision.remaining, ttl }
}

/**
 * Builds a store class for @fastify/rate-limit's `store` setting, bound to a
 * limiter. `child` keys each route apart and applies the route's `algorithm`,
 * `onRedisError`, `deadline` and `cost` from `config.rateLimit`, and
 * @fastify/rate-limit's `ban`, `continueExceeding` and `exponentialBackoff`.
 * Without a `nameSpace`, the n-th registration of @fastify/rate-limit in an
 * app gets its own (`frl`, `frl2`, …: the same on every instance of the app),
 * so two registrations count apart, as with its in-memory store.
 */
export function createStore (limiter: Limiter, options: StoreOptions = {}): RateLimitStoreClass {
  const base = resolveLimit(pickStoreOptions(options as Record<string, unknown>, LIMIT_NAMES), limiter.options.defaults)

  class RedkitRateLimitStore implements RateLimitStore {
    readonly #spec: ResolvedLimit
    readonly #namespace: string
    #last: ResolvedLimit

    constructor (settings: object = {}, namespace?: string, spec = base) {
      this.#spec = { ...spec, onRefusal: onRefusalOf(settings as Record<string, unknown>, spec.algorithm) }
      this.#last = this.#spec
      this.#namespace = namespace ?? options.nameSpace ?? rootNamespace(limiter)
    }

    incr (key: string, cb: StoreCallback, timeWindow: number, max: number): void {
      this.#decide(key, cb, timeWindow, max, true)
    }

    read (key: string, cb: StoreCallback, timeWindow: number, max: number): void {
      this.#decide(key, cb, timeWindow, max, false)
    }

    child (routeOptions: object): RateLimitStore {
      const settings = routeOptions as Record<string, unknown>
      const info = (settings.routeInfo ?? {}) as RouteInfo
      const namespace = typeof info.method === 'string' && typeof info.url === 'string'
        ? `${this.#namespace}:${info.method}:${info.url}`
        : this.#namespace
      return new RedkitRateLimitStore(settings, namespace, resolveLimit(pickStoreOptions(settings, LIMIT_NAMES), this.#spec))
    }

    #decide (key: string, cb: StoreCallback, timeWindow: number, max: number, consume: boolean): void {
      if (max <= 0) {
        cb(null, { current: 1, ttl: timeWindow })
        return
      }
      let stored: string
      try {
        stored = limiter.storedKey(this.#namespace + ':' + key)
      } catch (err) {
        cb(err as Error)
        return
      }
      limiter.decide(stored, this.#specFor(timeWindow, max), consume, (err, decision) => {
        if (err !== null) cb(err)
        else cb(null, toResult(decision!, max, consume))
      })
    }

    /** The limit for @fastify/rate-limit's max and timeWindow; the last one is kept, as they rarely change. */
    #specFor (timeWindow: number, max: number): ResolvedLimit {
      const last = this.#last
      if (last.window === timeWindow && last.limit === max) return last
      const spec = timeWindow === this.#spec.window && max === this.#spec.limit
        ? this.#spec
        : { ...this.#spec, limit: max, window: Math.max(1, Math.trunc(timeWindow)), cost: Math.min(this.#spec.cost, max) }
      this.#last = spec
      return spec
    }
  }
  return RedkitRateLimitStore
}
