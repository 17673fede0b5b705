import { createError } from '@fastify/error'

export const CacheInvalidOptionError = createError<[string]>(
  'FST_REDKIT_CACHE_INVALID_OPTION', 'Invalid @redkit/cache option: %s', 500, TypeError
)

export const CacheInvalidArgumentError = createError<[string]>(
  'FST_REDKIT_CACHE_INVALID_ARGUMENT', 'Invalid cache argument: %s', 500, TypeError
)

export const CacheNotSerializableError = createError<[string, string]>(
  'FST_REDKIT_CACHE_NOT_SERIALIZABLE', 'Value for cache key %s cannot be serialised: %s', 500, TypeError
)

export const CacheTooLargeError = createError<[string, number, number]>(
  'FST_REDKIT_CACHE_TOO_LARGE', 'Value for cache key %s is %d bytes once serialised, over maxSize (%d bytes)', 500, RangeError
)
