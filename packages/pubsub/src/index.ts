import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { describePubsub } from './admin.js'
import { createBackend } from './factory.js'
import { checkOptions, type PubsubOptions } from './options.js'
import { Pubsub } from './pubsub.js'
import type { PubsubChannels } from './types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Pub/sub between instances, durable streams and an SSE bridge. */
    pubsub: Pubsub<PubsubChannels>
  }
}

const plugin: FastifyPluginAsync<PubsubOptions> = async (app: FastifyInstance, options) => {
  const resolved = checkOptions(options)
  const pubsub = new Pubsub<PubsubChannels>(app.redkit, app.log, resolved,
    (hooks) => createBackend(app.redkit, { sharded: resolved.sharded, ...hooks }))
  app.decorate('pubsub', pubsub)
  app.redkit.describe(describePubsub(() => pubsub.stats()))
  // Open SSE responses would keep the HTTP server from closing.
  app.addHook('preClose', async () => { pubsub.closeSse() })
  app.addHook('onClose', async () => { await pubsub.close() })
}

export const pubsub = fp(plugin, { name: '@redkit/pubsub', fastify: '5.x', dependencies: ['@redkit/core'] })
export default pubsub

export { Pubsub } from './pubsub.js'
export { DurableStream, type StreamHandler, type StreamStats, type ReplayOptions } from './stream.js'
export type { ResubscribeInfo, SubscriberLostInfo } from './subscriber.js'
export type {
  PubsubChannels, PubsubStats, Payload, PubsubMessage, Handler, Unsubscribe, SubscribeOptions, IterateOptions, GapInfo, SseOptions
} from './types.js'
export {
  checkOptions, DEFAULT_MAX_SIZE, DEFAULT_MAX_CHANNEL_LENGTH, DEFAULT_CONCURRENCY, DEFAULT_MAX_PENDING, DEFAULT_SLOW_HANDLER_MS,
  DEFAULT_HEARTBEAT_MS, DEFAULT_STREAM_MAX_LEN, DEFAULT_STREAM_TTL_MS, DEFAULT_CLAIM_IDLE_MS, DEFAULT_STREAM_BATCH,
  type PubsubOptions, type StreamOptions
} from './options.js'
export * from './errors.js'
