import type { Redkit } from '@redkit/core'
import type { Transport } from './backend.js'
import { MemoryTransport } from './memory.js'
import { RedisTransport } from './redis.js'
import type { SubscriberHooks } from './subscriber.js'

/** What a transport reports back to the pubsub: messages, and on Redis the subscriber's losses and recoveries. */
export type TransportHooks = Omit<SubscriberHooks, 'channels' | 'patterns'>

/** Opens the transport once the pubsub's hooks exist. */
export type TransportFactory = (hooks: TransportHooks) => Transport

export interface BackendOptions extends TransportHooks {
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE) on Redis 7+. */
  sharded: boolean
}

/** The one place that picks the memory or Redis transport; the pubsub sees only `Transport`. */
export function createBackend (redkit: Redkit, { sharded, ...hooks }: BackendOptions): Transport {
  return redkit.mode === 'memory' ? new MemoryTransport(hooks.sink) : new RedisTransport(redkit, sharded, hooks)
}
