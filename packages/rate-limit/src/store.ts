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

export interface RateLimitStore {
  incr: (key: string, cb: StoreCallback, timeWindow: number, max: number) => void
  read: (key: string, cb: StoreCallback, timeWindow: number, max: number) => void
  child: (routeOptions: Record<string, unknown>) => RateLimitStore
}

/** The constructor @fastify/rate-limit calls with its settings. */
export type RateLimitStoreClass = new (settings?: Record<string, unknown>) => RateLimitStore

interface RouteInfo { method?: unknown, url?: unknown }

const DEFAULT_NAMESPACE = 'frl'

function pick (source: Record<string, unknown>): StoreOptions {
  const out: StoreOptions = {}
  if (source.algorithm !== undefined) out.algorithm = source.algorithm as Algorithm
  if (source.onRedisError !== undefined) out.onRedisError = source.onRedisError as OnRedisError
  if (source.deadline !== undefined) out.deadline = source.deadline as number
  if (source.cost !== undefined) out.cost = source.cost as number
  return out
}

/** Maps a decision to what @fastify/rate-limit expects: current > max means refused. */
function toResult (decision: RateLimitDecision, max: number): StoreResult {
  if (!decision.allowed) return { current: max + 1, ttl: decision.retryAfter }
  return { current: max - decision.remaining, ttl: Math.max(0, decision.resetAt - decision.now) }
}

/**
 * Builds a store class for @fastify/rate-limit's `store` setting, bound to a
 * limiter. `child` keys each route apart and applies the route's `algorithm`,
 * `onRedisError`, `deadline` and `cost` from `config.rateLimit`.
 */
export function createStore (limiter: Limiter, options: StoreOptions = {}): RateLimitStoreClass {
  const base = resolveLimit(pick(options as Record<string, unknown>), limiter.options.defaults)
  const rootNamespace = options.nameSpace ?? DEFAULT_NAMESPACE

  class RedkitRateLimitStore implements RateLimitStore {
    readonly #spec: ResolvedLimit
    readonly #namespace: string
    #last: ResolvedLimit

    constructor (settings?: Record<string, unknown>, namespace = rootNamespace, spec = base) {
      this.#spec = spec
      this.#last = spec
      this.#namespace = namespace
    }

    incr (key: string, cb: StoreCallback, timeWindow: number, max: number): void {
      this.#decide(key, cb, timeWindow, max, true)
    }

    read (key: string, cb: StoreCallback, timeWindow: number, max: number): void {
      this.#decide(key, cb, timeWindow, max, false)
    }

    child (routeOptions: Record<string, unknown>): RateLimitStore {
      const info = (routeOptions.routeInfo ?? {}) as RouteInfo
      const namespace = typeof info.method === 'string' && typeof info.url === 'string'
        ? `${this.#namespace}:${info.method}:${info.url}`
        : this.#namespace
      const spec = resolveLimit(pick(routeOptions), this.#spec)
      return new RedkitRateLimitStore(undefined, namespace, spec)
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
        else cb(null, toResult(decision!, max))
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
