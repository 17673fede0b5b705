import { createError } from '@fastify/error'

export const SessionInvalidOptionError = createError<[string]>(
  'FST_REDKIT_SESSION_INVALID_OPTION', 'Invalid @redkit/session option: %s', 500, TypeError
)

export const SessionInvalidIdError = createError(
  'FST_REDKIT_SESSION_INVALID_ID', 'Session id is malformed; expected 8 to 128 characters of A-Z, a-z, 0-9, "-" or "_"', 400
)

export const SessionTooLargeError = createError<[number, number]>(
  'FST_REDKIT_SESSION_TOO_LARGE', 'Session is %d bytes, over the maxSize of %d bytes; nothing was written', 500
)

export const SessionNotSerializableError = createError<[string, string]>(
  'FST_REDKIT_SESSION_NOT_SERIALIZABLE', 'Session field "%s" cannot be stored as JSON: %s', 500
)

export const SessionInvalidUserIdError = createError(
  'FST_REDKIT_SESSION_INVALID_USER_ID', 'User id must be a non-empty string or a finite number of at most 512 characters', 400
)

export const BridgeTokenInvalidError = createError(
  'FST_REDKIT_SESSION_INVALID_TOKEN', 'Bridge token is malformed; expected 43 base64url characters', 400
)

export const BridgePayloadTooLargeError = createError<[number, number]>(
  'FST_REDKIT_SESSION_PAYLOAD_TOO_LARGE', 'Bridge token payload is %d bytes, over the maxSize of %d bytes; nothing was written', 413
)

export const BridgePayloadInvalidError = createError<[string]>(
  'FST_REDKIT_SESSION_INVALID_PAYLOAD', 'Bridge token payload cannot be stored: %s', 400
)

export const BridgeTtlInvalidError = createError<[string]>(
  'FST_REDKIT_SESSION_INVALID_TTL', 'Bridge token ttl must be an integer number of seconds from 1 to 86400, got %s', 400
)

export const SessionInvalidCursorError = createError(
  'FST_REDKIT_SESSION_INVALID_CURSOR', 'Session list cursor is malformed; pass back the cursor of a previous page unchanged', 400
)

export const SessionInvalidLimitError = createError<[string]>(
  'FST_REDKIT_SESSION_INVALID_LIMIT', 'Session list limit must be an integer from 1 to 1000, got %s', 400
)
