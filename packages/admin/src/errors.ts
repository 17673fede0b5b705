import { createError } from '@fastify/error'

export const AdminInvalidOptionError = createError<[string]>(
  'FST_REDKIT_ADMIN_INVALID_OPTION', 'Invalid @redkit/admin option: %s', 500, TypeError
)

export const AdminUnauthorizedError = createError(
  'FST_REDKIT_ADMIN_UNAUTHORIZED', 'Admin credentials are missing or wrong', 401
)

export const AdminNotRegisteredError = createError<[string]>(
  'FST_REDKIT_ADMIN_NOT_REGISTERED', '%s is not registered on this app', 404
)

export const AdminNotFoundError = createError<[string]>(
  'FST_REDKIT_ADMIN_NOT_FOUND', '%s was not found', 404
)

export const AdminInvalidIdError = createError<[string]>(
  'FST_REDKIT_ADMIN_INVALID_ID', 'Invalid %s', 400
)

export const AdminInvalidCursorError = createError(
  'FST_REDKIT_ADMIN_INVALID_CURSOR', 'Invalid cursor: pass back the nextCursor of a previous page unchanged', 400
)

export const AdminRedisRequiredError = createError<[string]>(
  'FST_REDKIT_ADMIN_REDIS_REQUIRED', '%s needs Redis, but redkit runs in memory mode', 404
)

export const AdminCrossSiteError = createError<[string]>(
  'FST_REDKIT_ADMIN_CROSS_SITE', 'Cross-site admin request refused: %s', 403
)
