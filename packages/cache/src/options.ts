import { optionChecker, type OnRedisError, type OptionChecker } from '@redkit/core/kit'
import { CacheInvalidOptionError } from './errors.js'
import { jsonSerializer, type Serializer } from './serializer.js'

export const DEFAULT_TTL = 60_000
export const DEFAULT_STALE_TTL = 0
export const DEFAULT_MAX_SIZE = 1024 * 1024
export const DEFAULT_NAMESPACE = 'default'
export const DEFAULT_ROUTE_NAMESPACE = 'route'
export const DEFAULT_LOCK_TTL = 10_000
export const DEFAULT_LOCK_WAIT = 5_000
export const DEFAULT_POLL_INTERVAL = 100
export const DEFAULT_L1_MAX = 1_000
export const DEFAULT_L1_TTL = 5_000
export const DEFAULT_MEMORY_MAX = 10_000
export const DEFAULT_MEMORY_MAX_BYTES = 64 * 1024 * 1024
/** Longest TTL accepted: 30 days, so that every key is sure to expire. */
export const MAX_TTL = 30 * 24 * 3600 * 1000
export const MAX_KEY_LENGTH = 1024
export const MAX_TAGS = 64

export interface L1Options {
  /** Most entries held in process. */
  max?: number
  /** Longest time in ms an entry is served from process memory. */
  ttl?: number
}

export interface MemoryOptions {
  /** Most entries held by the memory backend. */
  max?: number
  /** Most bytes (serialised) held by the memory backend. */
  maxBytes?: number
}

export interface CacheOptions {
  /** Default time to live in ms. */
  ttl?: number
  /** Default window in ms after `ttl` during which wrap() serves the old value while it refreshes. */
  staleTtl?: number
  /** Largest serialised value in bytes. */
  maxSize?: number
  /** Name of the namespace `app.cache` works in. */
  namespace?: string
  /** Namespace of route responses. */
  routeNamespace?: string
  /** How values become strings and back. Defaults to JSON that keeps Dates. */
  serializer?: Serializer
  /** When Redis fails: 'open' (default) acts as a miss and runs the loader, 'closed' throws. */
  onRedisError?: OnRedisError
  /** Lifetime in ms of the lock taken while one instance runs a loader. */
  lockTtl?: number
  /** Longest time in ms a caller waits for another instance's loader before running its own. */
  lockWait?: number
  /** Waiters re-check this often in ms in case a wake-up message is lost. */
  pollInterval?: number
  /** In-process cache in front of Redis; false (default) or options. */
  l1?: boolean | L1Options
  /** Bounds of the in-memory backend. */
  memory?: MemoryOptions
}

export interface ResolvedOptions {
  ttl: number
  staleTtl: number
  maxSize: number
  namespace: string
  routeNamespace: string
  serializer: Serializer
  onRedisError: OnRedisError
  lockTtl: number
  lockWait: number
  pollInterval: number
  l1: { max: number, ttl: number } | null
  memory: { max: number, maxBytes: number }
}

const KNOWN = new Set(['ttl', 'staleTtl', 'maxSize', 'namespace', 'routeNamespace', 'serializer', 'onRedisError',
  'lockTtl', 'lockWait', 'pollInterval', 'l1', 'memory'])

const check: OptionChecker = optionChecker(CacheInvalidOptionError)

const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/

/** Namespaces become Cluster hash tags and key segments, so only a safe alphabet is allowed. */
export function isNamespace (value: unknown): value is string {
  return typeof value === 'string' && NAMESPACE.test(value)
}

function namespace (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (!isNamespace(value)) check.fail(`${name} must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(value)}`)
  return value
}

function l1Options (value: unknown): ResolvedOptions['l1'] {
  if (value === undefined || value === false) return null
  if (value === true) return { max: DEFAULT_L1_MAX, ttl: DEFAULT_L1_TTL }
  const o = check.options(value, ['max', 'ttl'], 'l1')
  return {
    max: check.integer(o.max, 'l1.max', 1, 10_000_000, DEFAULT_L1_MAX),
    ttl: check.integer(o.ttl, 'l1.ttl', 1, MAX_TTL, DEFAULT_L1_TTL)
  }
}

function serializer (value: unknown): Serializer {
  if (value === undefined) return jsonSerializer
  const o = check.object(value, 'serializer')
  if (typeof o.serialize !== 'function' || typeof o.deserialize !== 'function') {
    check.fail('serializer must be an object with serialize(value) → string and deserialize(text) → value functions')
  }
  return value as Serializer
}

/** Validates options at register time; every error says what to fix. */
export function checkOptions (opts: CacheOptions = {}): ResolvedOptions {
  const o = check.object(opts, 'options')
  // Renamed before the first release to the name and values of the other packages.
  if (o.failOpen !== undefined) check.fail("failOpen was replaced by onRedisError: 'open' (failOpen: true) or 'closed' (failOpen: false)")
  check.known(o, KNOWN)
  const memory = check.options(o.memory, ['max', 'maxBytes'], 'memory')
  const resolved: ResolvedOptions = {
    ttl: check.integer(o.ttl, 'ttl (ms)', 1, MAX_TTL, DEFAULT_TTL),
    staleTtl: check.integer(o.staleTtl, 'staleTtl (ms)', 0, MAX_TTL, DEFAULT_STALE_TTL),
    maxSize: check.integer(o.maxSize, 'maxSize (bytes)', 1, 512 * 1024 * 1024, DEFAULT_MAX_SIZE),
    namespace: namespace(o.namespace, 'namespace', DEFAULT_NAMESPACE),
    routeNamespace: namespace(o.routeNamespace, 'routeNamespace', DEFAULT_ROUTE_NAMESPACE),
    serializer: serializer(o.serializer),
    onRedisError: check.onRedisError(o.onRedisError, 'open'),
    lockTtl: check.integer(o.lockTtl, 'lockTtl (ms)', 10, MAX_TTL, DEFAULT_LOCK_TTL),
    lockWait: check.integer(o.lockWait, 'lockWait (ms)', 0, MAX_TTL, DEFAULT_LOCK_WAIT),
    pollInterval: check.integer(o.pollInterval, 'pollInterval (ms)', 5, 60_000, DEFAULT_POLL_INTERVAL),
    l1: l1Options(o.l1),
    memory: {
      max: check.integer(memory.max, 'memory.max', 1, 100_000_000, DEFAULT_MEMORY_MAX),
      maxBytes: check.integer(memory.maxBytes, 'memory.maxBytes', 1024, Number.MAX_SAFE_INTEGER, DEFAULT_MEMORY_MAX_BYTES)
    }
  }
  if (resolved.maxSize > resolved.memory.maxBytes) check.fail('maxSize must not exceed memory.maxBytes')
  return resolved
}
