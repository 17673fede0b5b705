import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { RateLimitConflictError, RateLimitInvalidOptionError } from './errors.js'
import { clientKeyOf } from './keys.js'
import { describeRateLimit } from './admin.js'
import { Limiter, type RateLimitDecision, type RateLimitMetrics } from './limiter.js'
import { createBackend } from './factory.js'
import { checkOptions, type Algorithm, type LimitOptions, type OnRedisError, type RateLimitPluginOptions } from './options.js'
import { createStore, pickStoreOptions, type RateLimitStore, type RateLimitStoreClass, type StoreOptions } from './store.js'

export interface RateLimitApi {
  /** Which backend holds the counters. */
  readonly backend: 'redis' | 'memory'
  /** Takes `cost` units from `key` if the limit allows it. */
  check: (key: string, opts?: LimitOptions) => Promise<RateLimitDecision>
  /** The decision check() would make now, without taking anything. */
  peek: (key: string, opts?: LimitOptions) => Promise<RateLimitDecision>
  /** Forgets all state of `key`, for every algorithm. */
  reset: (key: string) => Promise<void>
  /** The default key of a request: its client IP (per trustProxy), IPv6 grouped by prefix. */
  clientKey: (request: FastifyRequest) => string
  /** A store class for @fastify/rate-limit's `store` setting. */
  store: (opts?: StoreOptions) => RateLimitStoreClass
  metrics: () => RateLimitMetrics
}

declare module 'fastify' {
  interface FastifyInstance {
    /** @redkit/rate-limit; `app.rateLimit` stays @fastify/rate-limit's handler factory. */
    limiter: RateLimitApi
  }
}

/**
 * The redkit store's per-route settings, added to @fastify/rate-limit's own
 * options (`config.rateLimit`, `fastify.rateLimit(...)`, `createRateLimit(...)`).
 */
declare module '@fastify/rate-limit' {
  interface RateLimitOptions {
    /** redkit store: the algorithm of this route's limit. */
    algorithm?: Algorithm
    /** redkit store: fail-open or fail-closed when Redis fails or misses the deadline. */
    onRedisError?: OnRedisError
    /** redkit store: deadline in ms of one Redis check. */
    deadline?: number
    /** redkit store: units each request takes. */
    cost?: number
  }
}

const plugin: FastifyPluginAsync<RateLimitPluginOptions> = async (app, options) => {
  const resolved = checkOptions(options)
  const backend = createBackend(app.redkit, { memoryMaxKeys: resolved.memoryMaxKeys })
  const client = app.redkit.client
  const limiter = new Limiter(backend, resolved, app.log, () => client?.status ?? 'ready')
  const api: RateLimitApi = {
    backend: app.redkit.mode,
    check: (key, opts) => limiter.check(key, opts),
    peek: (key, opts) => limiter.peek(key, opts),
    reset: async (key) => { await limiter.reset(key) },
    clientKey: (request) => clientKeyOf(request.ip, resolved.ipv6Subnet),
    store: (opts) => createStore(limiter, opts),
    metrics: () => ({ ...limiter.metrics })
  }

  if (app.hasDecorator('limiter')) {
    throw new RateLimitConflictError('app.limiter is already decorated; register @redkit/rate-limit once per app')
  }
  app.decorate('limiter', api)
  app.redkit.describe(describeRateLimit(api))
  app.addHook('onClose', async () => { backend.close() })

  if (resolved.fastifyRateLimit !== undefined) {
    const settings = resolved.fastifyRateLimit
    await app.register(fastifyRateLimit, {
      keyGenerator: api.clientKey,
      ...settings,
      store: settings.store ?? api.store(pickStoreOptions(settings as Record<string, unknown>, ['algorithm', 'onRedisError', 'deadline', 'nameSpace']))
    })
  }
  app.log.debug({ backend: api.backend, algorithm: resolved.defaults.algorithm }, 'redkit rate-limit: ready')
}

/**
 * A store class for @fastify/rate-limit registered before @redkit/rate-limit:
 * it binds to `app.limiter` when first used, which is when routes are set up.
 */
export function redkitStore (app: FastifyInstance, opts?: StoreOptions): RateLimitStoreClass {
  let bound: RateLimitStoreClass | undefined
  const target = (): RateLimitStoreClass => {
    if (!app.hasDecorator('limiter')) throw new RateLimitInvalidOptionError('redkitStore(): register @redkit/rate-limit before routes use the store')
    bound ??= app.limiter.store(opts)
    return bound
  }
  return class LateBoundStore implements RateLimitStore {
    readonly #settings: object
    #store: RateLimitStore | undefined
    constructor (settings: object = {}) { this.#settings = settings }
    #inner (): RateLimitStore {
      this.#store ??= new (target())(this.#settings)
      return this.#store
    }

    incr (...args: Parameters<RateLimitStore['incr']>): void { this.#inner().incr(...args) }
    read (...args: Parameters<RateLimitStore['read']>): void { this.#inner().read(...args) }
    child (routeOptions: object): RateLimitStore { return this.#inner().child(routeOptions) }
  }
}

export const redkitRateLimit = fp(plugin, {
  name: '@redkit/rate-limit',
  fastify: '5.x',
  dependencies: ['@redkit/core']
})
export default redkitRateLimit

export { clientKeyOf, storedKey } from './keys.js'
export { MemoryBackend } from './memory.js'
export {
  RateLimitInvalidOptionError, RateLimitInvalidKeyError, RateLimitUnavailableError, RateLimitDeadlineError,
  RateLimitConflictError, RateLimitUnsupportedOptionError
} from './errors.js'
export {
  DEFAULT_ALGORITHM, DEFAULT_DEADLINE, DEFAULT_IPV6_SUBNET, DEFAULT_MAX_KEY_LENGTH, DEFAULT_MEMORY_MAX_KEYS,
  DEFAULT_ON_REDIS_ERROR, DEFAULT_UNAVAILABLE_RETRY_AFTER
} from './options.js'
export type { Algorithm, OnRedisError, LimitOptions, RateLimitPluginOptions } from './options.js'
export type { RateLimitDecision, RateLimitMetrics } from './limiter.js'
export type { StoreOptions, RateLimitStore, RateLimitStoreClass, StoreResult, StoreCallback } from './store.js'
