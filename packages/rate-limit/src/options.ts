import type { RateLimitPluginOptions as FastifyRateLimitSettings } from '@fastify/rate-limit'
import type { OnRefusal } from './backend.js'
import { optionChecker, type OnRedisError, type OptionChecker } from '@redkit/core/kit'
import { RateLimitInvalidOptionError } from './errors.js'

export type Algorithm = 'fixed' | 'sliding' | 'sliding-log' | 'token-bucket'
export type { OnRedisError }

export const ALGORITHMS: readonly Algorithm[] = ['fixed', 'sliding', 'sliding-log', 'token-bucket']
export const DEFAULT_ALGORITHM: Algorithm = 'sliding'
export const DEFAULT_ON_REDIS_ERROR: OnRedisError = 'open'
export const DEFAULT_DEADLINE = 100
export const DEFAULT_IPV6_SUBNET = 64
export const DEFAULT_MAX_KEY_LENGTH = 128
export const DEFAULT_MEMORY_MAX_KEYS = 10_000
export const DEFAULT_UNAVAILABLE_RETRY_AFTER = 1
export const DEFAULT_LIMIT = 100
export const DEFAULT_WINDOW = 60_000
export const MAX_WINDOW = 366 * 24 * 3600 * 1000
export const MAX_LIMIT = 1_000_000_000

/** Options of one limit, for check() and peek(). */
export interface LimitOptions {
  /** Units allowed per window (for a token bucket: its capacity). */
  limit?: number
  /** Window in ms (for a token bucket: the time to refill from empty). */
  window?: number
  algorithm?: Algorithm
  /** Units this request takes; defaults to 1. */
  cost?: number
  /** What a check does when Redis fails or misses the deadline. */
  onRedisError?: OnRedisError
  /** Hard deadline of one Redis check in ms. */
  deadline?: number
}

export interface RateLimitPluginOptions extends LimitOptions {
  /** IPv6 clients are grouped by this prefix length (0–128). */
  ipv6Subnet?: number
  /** Keys longer than this are replaced by their SHA-256. */
  maxKeyLength?: number
  /** Most keys the in-memory backend keeps; the least recently used go first. */
  memoryMaxKeys?: number
  /** Retry-After (seconds) sent with 503 by fail-closed limits. */
  unavailableRetryAfter?: number
  /**
   * Registers @fastify/rate-limit with a redkit store, with these settings.
   * `true` uses its defaults.
   */
  fastifyRateLimit?: boolean | FastifyRateLimitSettings
}

export interface ResolvedLimit {
  limit: number
  window: number
  algorithm: Algorithm
  cost: number
  onRedisError: OnRedisError
  deadline: number
  /** Set by the @fastify/rate-limit store from continueExceeding and exponentialBackoff. */
  onRefusal: OnRefusal
}

export interface ResolvedPluginOptions {
  defaults: ResolvedLimit
  ipv6Subnet: number
  maxKeyLength: number
  memoryMaxKeys: number
  unavailableRetryAfter: number
  fastifyRateLimit: FastifyRateLimitSettings | undefined
}

const check: OptionChecker = optionChecker(RateLimitInvalidOptionError)

/** Merges per-call options over defaults and validates them; throws FST_REDKIT_RATE_LIMIT_INVALID_OPTION. */
export function resolveLimit (opts: LimitOptions | undefined, defaults: ResolvedLimit): ResolvedLimit {
  if (opts === undefined) return defaults
  check.object(opts, 'limit options')
  const limit = check.integer(opts.limit, 'limit', 1, MAX_LIMIT, defaults.limit)
  const cost = check.integer(opts.cost, 'cost', 1, MAX_LIMIT, 1)
  if (cost > limit) check.fail(`cost (${cost}) must not exceed limit (${limit}); such a request could never pass`)
  return {
    limit,
    window: check.integer(opts.window, 'window (ms)', 1, MAX_WINDOW, defaults.window),
    algorithm: check.oneOf(opts.algorithm, 'algorithm', ALGORITHMS, defaults.algorithm),
    cost,
    onRedisError: check.onRedisError(opts.onRedisError, defaults.onRedisError),
    deadline: check.integer(opts.deadline, 'deadline (ms)', 1, 60_000, defaults.deadline),
    onRefusal: defaults.onRefusal
  }
}

const KNOWN = new Set(['limit', 'window', 'algorithm', 'cost', 'onRedisError', 'deadline', 'ipv6Subnet',
  'maxKeyLength', 'memoryMaxKeys', 'unavailableRetryAfter', 'fastifyRateLimit'])

/** Validates plugin options at register time. */
export function checkOptions (options?: RateLimitPluginOptions): ResolvedPluginOptions {
  const opts = check.options<RateLimitPluginOptions>(options, KNOWN)
  const base: ResolvedLimit = {
    limit: DEFAULT_LIMIT,
    window: DEFAULT_WINDOW,
    algorithm: DEFAULT_ALGORITHM,
    cost: 1,
    onRedisError: DEFAULT_ON_REDIS_ERROR,
    deadline: DEFAULT_DEADLINE,
    onRefusal: 'keep'
  }
  const defaults = resolveLimit({
    limit: opts.limit,
    window: opts.window,
    algorithm: opts.algorithm,
    onRedisError: opts.onRedisError,
    deadline: opts.deadline
  }, base)
  if (opts.cost !== undefined) check.fail('cost is per check; pass it to check() instead of the plugin options')
  const frl = opts.fastifyRateLimit
  if (frl !== undefined && typeof frl !== 'boolean' && (typeof frl !== 'object' || frl === null)) {
    check.fail('fastifyRateLimit must be true or an object of @fastify/rate-limit settings')
  }
  return {
    defaults,
    ipv6Subnet: check.integer(opts.ipv6Subnet, 'ipv6Subnet', 0, 128, DEFAULT_IPV6_SUBNET),
    maxKeyLength: check.integer(opts.maxKeyLength, 'maxKeyLength', 16, 4096, DEFAULT_MAX_KEY_LENGTH),
    memoryMaxKeys: check.integer(opts.memoryMaxKeys, 'memoryMaxKeys', 1, 100_000_000, DEFAULT_MEMORY_MAX_KEYS),
    unavailableRetryAfter: check.integer(opts.unavailableRetryAfter, 'unavailableRetryAfter (s)', 0, 86_400, DEFAULT_UNAVAILABLE_RETRY_AFTER),
    fastifyRateLimit: frl === true ? {} : frl === false || frl === undefined ? undefined : frl
  }
}
