import { optionChecker, type OnRedisError, type OptionChecker } from '@redkit/core/kit'
import { LockInvalidCursorError, LockInvalidNameError, LockInvalidOptionError } from './errors.js'

export const DEFAULT_TTL = 10_000
export const DEFAULT_TIMEOUT = 10_000
export const DEFAULT_POLL_INTERVAL = 250
/** How long the fencing counter of an unused lock is kept: 30 days. */
export const DEFAULT_COUNTER_TTL = 30 * 24 * 3600 * 1000
export const DEFAULT_STATUS_CODE = 423
export const MAX_NAME_LENGTH = 512
export const MAX_TTL = 24 * 3600 * 1000
export const MAX_LIMIT = 100_000

export type { OnRedisError }

export interface LockPluginOptions {
  /** Default lease of a lock in ms. */
  ttl?: number
  /** Default time acquire() waits for a held lock, in ms. */
  timeout?: number
  /** Fallback retry interval of waiters when no release message arrives, in ms. */
  pollInterval?: number
  /** Lifetime of a lock's fencing counter after its last acquisition, in ms. */
  counterTtl?: number
  /** 'closed' (default): fail when Redis is down. 'open': run the work without a lock and log a warning. */
  onRedisError?: OnRedisError
  /** Status of a route whose lock could not be taken in time: 409 or 423 (default). */
  statusCode?: 409 | 423
}

export interface ResolvedLockOptions {
  ttl: number
  timeout: number
  pollInterval: number
  counterTtl: number
  onRedisError: OnRedisError
  statusCode: 409 | 423
}

const check: OptionChecker = optionChecker(LockInvalidOptionError)
export const checkInteger = check.integer

const KNOWN = new Set(['ttl', 'timeout', 'pollInterval', 'counterTtl', 'onRedisError', 'statusCode'])

/** Validates plugin options at register time; throws FST_REDKIT_LOCK_INVALID_OPTION. */
export function checkOptions (options?: LockPluginOptions): ResolvedLockOptions {
  const opts = check.options<LockPluginOptions>(options, KNOWN)
  return {
    ttl: check.integer(opts.ttl ?? DEFAULT_TTL, 'ttl', 10, MAX_TTL),
    timeout: check.integer(opts.timeout ?? DEFAULT_TIMEOUT, 'timeout', 0, MAX_TTL),
    pollInterval: check.integer(opts.pollInterval ?? DEFAULT_POLL_INTERVAL, 'pollInterval', 5, 60_000),
    counterTtl: check.integer(opts.counterTtl ?? DEFAULT_COUNTER_TTL, 'counterTtl', 60_000, 10 * 365 * 24 * 3600 * 1000),
    onRedisError: check.onRedisError(opts.onRedisError, 'closed'),
    statusCode: check.oneOf(opts.statusCode ?? DEFAULT_STATUS_CODE, 'statusCode', [409, 423] as const)
  }
}

export interface AcquireOptions {
  /** Lease in ms; the lock expires unless extended before then. */
  ttl?: number
  /** How long to wait for a held lock, in ms; 0 means do not wait. */
  timeout?: number
  /** Aborts the wait. */
  signal?: AbortSignal
}

export function checkAcquireOptions (opts: AcquireOptions | undefined, defaults: ResolvedLockOptions): { ttl: number, timeout: number, signal?: AbortSignal } {
  if (opts === undefined) return defaults
  check.object(opts, 'acquire options')
  const ttl = check.integer(opts.ttl ?? defaults.ttl, 'ttl', 10, MAX_TTL)
  const timeout = check.integer(opts.timeout ?? defaults.timeout, 'timeout', 0, MAX_TTL)
  const signal = opts.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) check.fail('signal must be an AbortSignal')
  return signal !== undefined ? { ttl, timeout, signal } : { ttl, timeout }
}

/**
 * Names become part of a Redis key and its Cluster hash tag, so braces (which
 * would end the tag) and control characters are refused.
 */
export function checkName (name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new LockInvalidNameError(`expected a non-empty string, got ${typeof name === 'string' ? '""' : typeof name}`)
  if (name.length > MAX_NAME_LENGTH) throw new LockInvalidNameError(`longer than ${MAX_NAME_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex
  if (/[{}\u0000-\u001f\u007f]/.test(name)) throw new LockInvalidNameError(`${JSON.stringify(name.slice(0, 64))} contains braces or control characters`)
  return name
}

export function checkLimit (limit: unknown): number {
  return check.integer(limit, 'semaphore limit', 1, MAX_LIMIT)
}

export const DEFAULT_PAGE_SIZE = 100
export const MAX_PAGE_SIZE = 1000

/** Checks list()'s options; the cursor's form is checked by the backend that made it. */
export function checkListOptions (opts: { cursor?: string | null, limit?: number } | undefined): { cursor: string | null, limit: number } {
  check.object(opts, 'list options')
  const cursor = opts?.cursor ?? null
  if (cursor !== null && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 1024)) {
    throw new LockInvalidCursorError()
  }
  return { cursor, limit: check.integer(opts?.limit ?? DEFAULT_PAGE_SIZE, 'limit', 1, MAX_PAGE_SIZE) }
}
