import type { DispatchStats } from './dispatch.js'
import type { StreamStats } from './stream.js'

/**
 * Map of channel names to message types. Augment it to type app.pubsub:
 *   declare module '@redkit/pubsub' { interface PubsubChannels { orders: Order } }
 * or get a typed view with app.pubsub.typed<MyChannels>().
 */
export interface PubsubChannels {}

/** Message type of a channel: from the map, or unknown for names (and patterns) it does not list. */
export type Payload<M, C extends string> = C extends keyof M ? M[C] : unknown

export interface PubsubMessage<T = unknown> {
  /** Channel the message was published on. */
  channel: string
  data: T
  /** Unique message id (`<publisher>:<seq>`); use it to drop duplicates. */
  id: string
  /** Instance id of the publisher. */
  publisher: string
  /** Per-publisher, per-channel sequence number. */
  seq: number
  /** Publisher clock at publish time, ms since the epoch. */
  ts: number
  /** The pattern that matched, for pattern subscriptions. */
  pattern?: string
  /** Stream entry id, for messages of a durable stream. */
  streamId?: string
}

export type Handler<T = unknown> = (message: PubsubMessage<T>) => unknown

export type Unsubscribe = () => Promise<void>

export interface SubscribeOptions {
  /** Messages this handler may process at once. */
  concurrency?: number
  /** Drop this instance's own messages. */
  skipSelf?: boolean
  /** Treat the name as a glob pattern (or use psubscribe). Without it every name is a literal channel, whatever characters it holds. */
  pattern?: boolean
}

export interface IterateOptions extends Omit<SubscribeOptions, 'concurrency'> {
  signal?: AbortSignal
  /** Messages buffered for a slow reader before the oldest are dropped. */
  maxBuffer?: number
}

export interface GapInfo {
  channel: string
  publisher: string
  /** Messages from this publisher on this channel that never arrived. */
  missed: number
  /** Last sequence number received before the gap. */
  lastSeq: number
  /** Sequence number that revealed the gap. */
  seq: number
}

export interface SseOptions {
  /** Resume from Last-Event-ID through the stream of the same name. Defaults to true when this instance declared the stream. */
  durable?: boolean
  heartbeatMs?: number
  /** Most bytes waiting for a slow client before it is disconnected. */
  maxBuffer?: number
}

export interface PubsubStats extends DispatchStats {
  mode: 'memory' | 'redis' | 'cluster'
  sharded: boolean
  channels: Array<{ channel: string, subscribers: number }>
  patterns: Array<{ pattern: string, subscribers: number }>
  /** Messages published by this instance. */
  published: number
  /** Messages received from Redis (in). */
  received: number
  malformed: number
  /** Gap events, and the messages they reported missing. */
  gaps: number
  missed: number
  /** Times the subscriber connection was restored with every subscription. */
  resubscribes: number
  /** Times the subscriber connection (or a sharded one) was lost. */
  subscriberLost: number
  /** Resubscribe attempts Redis refused or that failed; each is retried with backoff. */
  resubscribeFailures: number
  sseClients: number
  streams: StreamStats[]
}
