import { createError } from '@fastify/error'

/** Passed last to an error constructor to keep the underlying error. */
export interface Cause { cause: unknown }

export const RedkitInvalidOptionError = createError<[string]>(
  'FST_REDKIT_INVALID_OPTION', 'Invalid redkit option: %s', 500, TypeError
)

export const RedkitConnectError = createError<[string, string]>(
  'FST_REDKIT_CONNECT_FAILED', 'Could not connect to Redis at %s: %s', 500
)

export const RedkitCommandTimeoutError = createError<[string, number, Cause?]>(
  'FST_REDKIT_COMMAND_TIMEOUT', 'Redis command %s did not answer within %d ms', 503
)

export const RedkitUnavailableError = createError<[string, Cause?]>(
  'FST_REDKIT_UNAVAILABLE', 'Redis is unavailable: %s', 503
)

export const RedkitOfflineQueueFullError = createError<[number]>(
  'FST_REDKIT_OFFLINE_QUEUE_FULL', 'Redis is reconnecting and %d commands are already queued', 503
)

export const RedkitMemoryModeError = createError<[string]>(
  'FST_REDKIT_MEMORY_MODE', '%s needs Redis, but redkit runs in memory mode', 500
)

/** True for errors that mean "Redis could not be reached in time", as opposed to a reply error. */
export function isUnavailableError (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'FST_REDKIT_COMMAND_TIMEOUT' || code === 'FST_REDKIT_UNAVAILABLE' ||
    code === 'FST_REDKIT_OFFLINE_QUEUE_FULL'
}
