import { createRequire } from 'node:module'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback, FastifyRequest } from 'fastify'
import { RateLimitConflictError } from './errors.js'
import { clientKeyOf } from './keys.js'
import { Limiter, type RateLimitDecision, type RateLimitMetrics } from './limiter.js'
import { MemoryBackend } from './memory.js'
import { checkOptions, type Algorithm, type LimitOptions, type OnRedisError, type RateLimitPluginOptions } from './options.js'
import { RedisBackend } from './redis.js'
import { createStore, type RateLimitStoreClass, type StoreOptions } from './store.js'

/** @fastify/rate-limit, loaded without its type declarations: they declare `rateLimit` as a method. */
const require = createRequire(import.meta.url)
export const fastifyRateLimit = require('@fastify/rate-limit') as FastifyPluginCallback<FastifyRateLimitSettings>

/** Settings of @fastify/rate-limit (the common ones; all others pass through). */
export interface FastifyRateLimitSettings extends Record<string, unknown> {
  global?: boolean
  max?: number | ((req: FastifyRequest, key: string) => number | Promise<number>)
  timeWindow?: number | string
  store?: RateLimitStoreClass
  keyGenerator?: (req: FastifyRequest) => string | number | Promise<string | number>
  skipOnError?: boolean
}

/** Per-route settings in `config.rateLimit`: @fastify/rate-limit's, plus the redkit store's. */
export interface RouteRateLimitOptions extends StoreOptions, Record<string, unknown> {
  max?: number | ((req: FastifyRequest, key: string) => number | Promise<number>)
  timeWindow?: number | string
  groupId?: string
}

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
    rateLimit: RateLimitApi
  }
  interface FastifyContextConfig {
    rateLimit?: RouteRateLimitOptions | false
  }
}

function backendFor (app: FastifyInstance, memoryMaxKeys: number): MemoryBackend | RedisBackend {
  return app.redkit.mode === 'redis' ? new RedisBackend(app.redkit) : new MemoryBackend(memoryMaxKeys)
}

const plugin: FastifyPluginAsync<RateLimitPluginOptions> = async (app, options) => {
  const resolved = checkOptions(options)
  const backend = backendFor(app, resolved.memoryMaxKeys)
  const client = app.redkit.client
  const limiter = new Limiter(backend, resolved, app.log, () => client?.status ?? 'ready')
  const api: RateLimitApi = {
    backend: app.redkit.mode,
    check: async (key, opts) => await limiter.check(key, opts),
    peek: async (key, opts) => await limiter.peek(key, opts),
    reset: async (key) => { await limiter.reset(key) },
    clientKey: (request) => clientKeyOf(request.ip, resolved.ipv6Subnet),
    store: (opts) => createStore(limiter, opts),
    metrics: () => ({ ...limiter.metrics })
  }

  if (app.hasDecorator('rateLimit')) {
    // @fastify/rate-limit registered first: its rateLimit() keeps working and gains our methods.
    const existing = (app as unknown as { rateLimit: unknown }).rateLimit
    if (typeof existing !== 'function' || 'check' in existing) {
      throw new RateLimitConflictError('app.rateLimit is already decorated; register @redkit/rate-limit once, before other rate-limit plugins')
    }
    Object.assign(existing, api)
  } else {
    app.decorate('rateLimit', api)
  }
  app.addHook('onClose', async () => { backend.close() })

  if (resolved.fastifyRateLimit !== undefined) {
    const settings = resolved.fastifyRateLimit
    await app.register(fastifyRateLimit, {
      keyGenerator: api.clientKey,
      ...settings,
      store: (settings.store as RateLimitStoreClass | undefined) ?? api.store(pickStoreOptions(settings))
    })
  }
  app.log.debug({ backend: api.backend, algorithm: resolved.defaults.algorithm }, 'redkit rate-limit: ready')
}

function pickStoreOptions (settings: Record<string, unknown>): StoreOptions {
  const out: StoreOptions = {}
  if (settings.algorithm !== undefined) out.algorithm = settings.algorithm as Algorithm
  if (settings.onRedisError !== undefined) out.onRedisError = settings.onRedisError as OnRedisError
  if (settings.deadline !== undefined) out.deadline = settings.deadline as number
  if (settings.nameSpace !== undefined) out.nameSpace = settings.nameSpace as string
  return out
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
  RateLimitConflictError
} from './errors.js'
export {
  DEFAULT_ALGORITHM, DEFAULT_DEADLINE, DEFAULT_IPV6_SUBNET, DEFAULT_MAX_KEY_LENGTH, DEFAULT_MEMORY_MAX_KEYS,
  DEFAULT_ON_REDIS_ERROR, DEFAULT_UNAVAILABLE_RETRY_AFTER
} from './options.js'
export type { Algorithm, OnRedisError, LimitOptions, RateLimitPluginOptions } from './options.js'
export type { RateLimitDecision, RateLimitMetrics } from './limiter.js'
export type { StoreOptions, RateLimitStore, RateLimitStoreClass, StoreResult, StoreCallback } from './store.js'
