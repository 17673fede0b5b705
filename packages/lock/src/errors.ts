import { createError } from '@fastify/error'

/** Passed last to an error constructor to keep the underlying error. */
export interface Cause { cause: unknown }

export const LockInvalidOptionError = createError<[string]>(
  'FST_REDKIT_LOCK_INVALID_OPTION', 'Invalid @redkit/lock option: %s', 500, TypeError
)

export const LockInvalidNameError = createError<[string]>(
  'FST_REDKIT_LOCK_INVALID_NAME', 'Invalid lock name: %s', 400, TypeError
)

/** list() was given a cursor it did not return. */
export const LockInvalidCursorError = createError(
  'FST_REDKIT_LOCK_INVALID_CURSOR', 'Invalid cursor: pass back the cursor of a previous list() page unchanged', 400
)

/** Another holder kept the lock for the whole wait. `holderTtl` tells how long it still holds it. */
export const LockTimeoutError = createError<[string, number, number]>(
  'FST_REDKIT_LOCK_TIMEOUT', 'Lock "%s" is held by another holder and was not acquired within %d ms (holder\'s TTL: %d ms)', 423
)

/** The lock expired or was taken over before it was released or extended. */
export const LockLostError = createError<[string, string]>(
  'FST_REDKIT_LOCK_LOST', 'Lock "%s" was lost: %s', 409
)

/** Redis could not answer, so it is unknown whether the lock is free. */
export const RedisUnavailableError = createError<[string, Cause?]>(
  'FST_REDKIT_LOCK_UNAVAILABLE', 'Redis is unavailable, so lock "%s" cannot be used', 503
)

/** The caller's AbortSignal fired while waiting for the lock. */
export const LockAbortedError = createError<[string, Cause?]>(
  'FST_REDKIT_LOCK_ABORTED', 'Waiting for lock "%s" was aborted', 499
)

/** A LockTimeoutError carrying the lock name and the holder's remaining TTL. */
export function lockTimeout (name: string, waited: number, holderTtl: number): Error & { lockName: string, holderTtl: number } {
  return Object.assign(new LockTimeoutError(name, waited, holderTtl), { lockName: name, holderTtl })
}

export function lockLost (name: string, why: string): Error & { lockName: string } {
  return Object.assign(new LockLostError(name, why), { lockName: name })
}
