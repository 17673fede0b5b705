import { createError } from '@fastify/error'

export const RateLimitInvalidOptionError = createError<[string]>(
  'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', 'Invalid @redkit/rate-limit option: %s', 500, TypeError
)

export const RateLimitInvalidKeyError = createError<[string]>(
  'FST_REDKIT_RATE_LIMIT_INVALID_KEY', 'Invalid rate-limit key: %s', 500, TypeError
)

/** Thrown by fail-closed limits when Redis does not answer within the deadline; Fastify answers 503. */
export const RateLimitUnavailableError = createError<[string]>(
  'FST_REDKIT_RATE_LIMIT_UNAVAILABLE', 'Rate limiter unavailable: %s', 503
)

export const RateLimitDeadlineError = createError<[number]>(
  'FST_REDKIT_RATE_LIMIT_DEADLINE', 'Redis did not answer the rate-limit check within %d ms', 503
)

export const RateLimitConflictError = createError<[string]>(
  'FST_REDKIT_RATE_LIMIT_CONFLICT', '%s', 500
)

/** An @fastify/rate-limit option the chosen algorithm gives no meaning; refused at register or route setup. */
export const RateLimitUnsupportedOptionError = createError<[string, string, string]>(
  'FST_REDKIT_RATE_LIMIT_UNSUPPORTED_OPTION', '@fastify/rate-limit option "%s" has no meaning with the %s algorithm: %s', 500, TypeError
)
