import { createError } from '@fastify/error'

export const PubsubInvalidOptionError = createError<[string]>(
  'FST_REDKIT_PUBSUB_INVALID_OPTION', 'Invalid @redkit/pubsub option: %s', 500, TypeError
)

export const PubsubInvalidChannelError = createError<[string]>(
  'FST_REDKIT_PUBSUB_INVALID_CHANNEL', 'Invalid channel: %s', 400, TypeError
)

export const PubsubNotSerializableError = createError<[string, { cause: unknown }?]>(
  'FST_REDKIT_PUBSUB_NOT_SERIALIZABLE', 'Message on channel %s cannot be encoded as JSON', 400, TypeError
)

export const PubsubMessageTooLargeError = createError<[string, number, number]>(
  'FST_REDKIT_PUBSUB_MESSAGE_TOO_LARGE', 'Message on channel %s is %d bytes, more than maxSize (%d)', 413, RangeError
)

export const PubsubInvalidIdError = createError<[string]>(
  'FST_REDKIT_PUBSUB_INVALID_ID', 'Invalid stream id: %s', 400, TypeError
)

export const PubsubInvalidHandlerError = createError(
  'FST_REDKIT_PUBSUB_INVALID_HANDLER', 'A subscription handler must be a function', 500, TypeError
)

export const PubsubShardedPatternError = createError<[string]>(
  'FST_REDKIT_PUBSUB_SHARDED_PATTERN',
  'Pattern %s cannot be used with sharded pub/sub on Redis Cluster: SPUBLISH does not reach pattern subscribers. Register @redkit/pubsub with { sharded: false } to use patterns on Cluster',
  500
)

export const PubsubStreamRunningError = createError<[string]>(
  'FST_REDKIT_PUBSUB_STREAM_RUNNING',
  'Stream %s already has a running consumer on this object; call app.pubsub.stream() again for another consumer', 500
)

export const PubsubClosedError = createError(
  'FST_REDKIT_PUBSUB_CLOSED', 'Pub/sub is closed', 503
)
