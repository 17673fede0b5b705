import { createError } from '@fastify/error'
import { IOREDIS_TIMEOUT_MESSAGE, IOREDIS_UNAVAILABLE_PREFIXES } from './ioredis-internals.js'

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

export const RedkitCrossSlotError = createError<[string, Cause?]>(
  'FST_REDKIT_CROSS_SLOT',
  'A command or script touched keys of more than one Cluster slot, or a key it did not declare (use hashTag): %s', 500
)

/**
 * What an error from Redis or ioredis means for the caller:
 * - 'timeout': no reply within the deadline;
 * - 'unavailable': Redis or the Cluster slot could not serve it now (connection
 *   lost, retries ran out, CLUSTERDOWN, TRYAGAIN, MOVED/ASK past the retries);
 *   retrying later may succeed;
 * - 'cross-slot': a bug in the command or script (CROSSSLOT, a non local key):
 *   retrying never helps;
 * - 'reply': any other reply error (WRONGTYPE, a script's own error…).
 */
export type RedisErrorKind = 'timeout' | 'unavailable' | 'cross-slot' | 'reply'

const UNAVAILABLE_PREFIXES = [
  ...IOREDIS_UNAVAILABLE_PREFIXES, 'CLUSTERDOWN', 'TRYAGAIN', 'MOVED ', 'ASK ', 'LOADING', 'MASTERDOWN'
]
const CROSS_SLOT_MARKS = ['CROSSSLOT', 'non local key', 'do not hash to the same slot']

function codeOf (err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code
}

export function classifyError (err: unknown): RedisErrorKind {
  const code = codeOf(err)
  if (code === 'FST_REDKIT_COMMAND_TIMEOUT') return 'timeout'
  if (code === 'FST_REDKIT_UNAVAILABLE' || code === 'FST_REDKIT_OFFLINE_QUEUE_FULL') return 'unavailable'
  if (code === 'FST_REDKIT_CROSS_SLOT') return 'cross-slot'
  const message = (err as { message?: unknown } | null)?.message
  if (typeof message !== 'string') return 'reply'
  if (message === IOREDIS_TIMEOUT_MESSAGE) return 'timeout'
  // Checked first: "Too many Cluster redirections. Last error: …" may quote a cross-slot reply.
  if (CROSS_SLOT_MARKS.some((mark) => message.includes(mark))) return 'cross-slot'
  if (UNAVAILABLE_PREFIXES.some((prefix) => message.startsWith(prefix))) return 'unavailable'
  return 'reply'
}

/** The coded redkit error for an ioredis error; reply errors are returned as they are. */
export function toRedkitError (err: Error, command = 'command', timeout = 0): Error {
  if (typeof codeOf(err) === 'string' && (codeOf(err) as string).startsWith('FST_REDKIT_')) return err
  switch (classifyError(err)) {
    case 'timeout': return new RedkitCommandTimeoutError(command, timeout, { cause: err })
    case 'unavailable': return new RedkitUnavailableError(err.message, { cause: err })
    case 'cross-slot': return new RedkitCrossSlotError(err.message, { cause: err })
    default: return err
  }
}

/**
 * True when the call failed because its Cluster slot was being migrated with
 * its keys split between two nodes (TRYAGAIN): the same work done one key at a
 * time would be redirected and served.
 */
export function isSlotMigrating (err: unknown): boolean {
  let e = err as { message?: unknown, cause?: unknown } | undefined
  for (let depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e.message === 'string' && e.message.startsWith('TRYAGAIN')) return true
    e = e.cause as typeof e
  }
  return false
}

/**
 * True for errors that mean "Redis could not serve this in time" (deadline,
 * connection, Cluster slot unavailable), coded or raw, as opposed to a reply error.
 */
export function isUnavailableError (err: unknown): boolean {
  const kind = classifyError(err)
  return kind === 'timeout' || kind === 'unavailable'
}

export const RedkitInvalidDescriptionError = createError<[string]>(
  'FST_REDKIT_INVALID_DESCRIPTION', 'Invalid redkit description: %s', 500, TypeError
)

export const RedkitDuplicateDescriptionError = createError<[string]>(
  'FST_REDKIT_DUPLICATE_DESCRIPTION', 'Duplicate redkit description: %s', 500
)
