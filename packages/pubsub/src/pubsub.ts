import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { escapeGlob, type Redkit } from '@redkit/core'
import type { Transport } from './backend.js'
import { HandlerSlot, type DispatchStats } from './dispatch.js'
import { PublishBatcher } from './batch.js'
import { checkChannel, decodeMessages, encode, prepare, type Outgoing } from './envelope.js'
import type { TransportFactory } from './factory.js'
import { PubsubClosedError, PubsubInvalidHandlerError, PubsubShardedPatternError } from './errors.js'
import { check, checkStreamOptions, type ResolvedOptions, type StreamOptions } from './options.js'
import { openSse } from './sse.js'
import { DurableStream } from './stream.js'
import type { ResubscribeInfo, SubscriberLostInfo } from './subscriber.js'
import type {
  GapInfo, Handler, IterateOptions, Payload, PubsubChannels, PubsubMessage, PubsubStats, SseOptions, SubscribeOptions, Unsubscribe
} from './types.js'

interface Route {
  name: string
  pattern: boolean
  slots: Set<HandlerSlot<PubsubMessage>>
  /** Last sequence seen per channel, then per publisher, for gap detection. */
  seqs: Map<string, Map<string, number>>
  tracked: number
  ready: Promise<void>
  /** Redis confirmed the subscription. */
  confirmed: boolean
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface Pubsub<M extends object = PubsubChannels> {
  on: ((event: 'gap', listener: (gap: GapInfo) => void) => this) &
  ((event: 'resubscribed', listener: (info: ResubscribeInfo) => void) => this) &
  ((event: 'subscriberLost', listener: (info: SubscriberLostInfo) => void) => this) &
  ((event: string | symbol, listener: (...args: any[]) => void) => this)
}

/**
 * Publishes JSON envelopes and fans incoming messages out to handlers. One
 * subscriber connection per app; each channel or pattern is subscribed once in
 * Redis however many handlers listen, and unsubscribed when the last one leaves.
 */
export class Pubsub<M extends object = PubsubChannels> extends EventEmitter {
  readonly instanceId: string
  private readonly transport: Transport
  private readonly batcher: PublishBatcher
  /**
   * Routes by Redis name, one map per kind: the same text may be subscribed as
   * a channel and as a pattern at once, and a message finds its route without
   * building a key string.
   */
  private readonly routes = { channel: new Map<string, Route>(), pattern: new Map<string, Route>() }
  /** Per channel published to: its Redis name and last sequence number. */
  private readonly outgoing = new Map<string, { name: string, seq: number }>()
  private readonly prefix: string
  private readonly streams = new Map<string, DurableStream<unknown>>()
  private readonly sseClients = new Set<() => void>()
  private readonly counters = { published: 0, received: 0, malformed: 0, gaps: 0, missed: 0, resubscribes: 0, subscriberLost: 0, resubscribeFailures: 0 }
  private readonly dispatch: DispatchStats = { delivered: 0, handlerErrors: 0, slowHandlers: 0, dropped: 0 }
  private closed = false

  constructor (private readonly redkit: Redkit, private readonly log: FastifyBaseLogger, readonly options: ResolvedOptions,
    openTransport: TransportFactory) {
    super()
    this.instanceId = redkit.instanceId
    this.prefix = `${redkit.prefix}ps:`
    const sink = (route: string, channel: string, payload: string, pattern: boolean): void => {
      this.receive((pattern ? this.routes.pattern : this.routes.channel).get(route), channel, payload)
    }
    this.transport = openTransport({
      log,
      sink,
      onLost: (info) => {
        this.counters.subscriberLost++
        this.emit('subscriberLost', info)
      },
      onResubscribed: (info) => {
        this.counters.resubscribes++
        this.emit('resubscribed', info)
      },
      onRetry: () => { this.counters.resubscribeFailures++ }
    })
    this.batcher = new PublishBatcher(this.transport, this.instanceId)
  }

  /** The same object, typed with another channel map. */
  typed<N extends object> (): Pubsub<N> {
    return this as unknown as Pubsub<N>
  }

  /** JSON-encodes the message and publishes it at the end of the turn (batch.ts); resolves to the number of receiving connections. */
  publish<C extends string> (channel: C, message: Payload<M, C>): Promise<number> {
    // Not an async function: on the hot path every extra promise layer costs throughput.
    let prepared: Outgoing
    let out: { name: string, seq: number }
    try {
      out = this.outgoingChannel(channel)
      prepared = prepare(channel, this.instanceId, out.seq + 1, message, this.options.maxSize)
    } catch (err) {
      return Promise.reject(err)
    }
    // The sequence number is only taken once the message is known to be valid.
    out.seq++
    this.counters.published++
    return this.batcher.add(out.name, prepared)
  }

  private outgoingChannel (channel: string): { name: string, seq: number } {
    let out = this.outgoing.get(channel)
    if (out === undefined) {
      if (this.closed) throw new PubsubClosedError()
      checkChannel(channel, this.options.maxChannelLength)
      // Bounded like the subscriber side: an app publishing to one channel per
      // user must not grow forever. A forgotten channel restarts at 1, which
      // subscribers read as a fresh start, not as a gap.
      if (this.outgoing.size >= this.options.gapTracking) this.forgetOldest()
      out = { name: this.prefix + channel, seq: 0 }
      this.outgoing.set(channel, out)
    } else if (this.closed) {
      throw new PubsubClosedError()
    }
    return out
  }

  /** Durable streams' counters are kept: their consumers deduplicate by message id. */
  private forgetOldest (): void {
    for (const channel of this.outgoing.keys()) {
      if (this.isDurable(channel)) continue
      this.outgoing.delete(channel)
      return
    }
  }

  /** Encodes for a stream entry, taking the channel's next sequence number. */
  private encodeOnce (channel: string, data: unknown): string {
    const out = this.outgoingChannel(channel)
    const payload = encode(channel, this.instanceId, out.seq + 1, data, this.options.maxSize)
    out.seq++
    return payload
  }

  /**
   * Subscribes a handler to a channel, taken literally whatever characters it
   * holds (a user-supplied `*` must not widen it), or to a glob pattern only
   * with `{ pattern: true }`; resolves, once Redis confirmed, to its unsubscribe function.
   */
  async subscribe<C extends string> (channel: C, handler: Handler<Payload<M, C>>, opts: SubscribeOptions = {}): Promise<Unsubscribe> {
    if (this.closed) throw new PubsubClosedError()
    const pattern = check.boolean(opts.pattern, 'pattern', false)
    checkChannel(channel, this.options.maxChannelLength, pattern ? 'pattern' : 'channel')
    if (typeof handler !== 'function') throw new PubsubInvalidHandlerError()
    if (pattern && this.transport.sharded) throw new PubsubShardedPatternError(channel)
    const slot = new HandlerSlot<PubsubMessage>(handler as Handler, {
      concurrency: check.integer(opts.concurrency, 'concurrency', 1, 10_000, this.options.concurrency),
      maxPending: this.options.maxPending,
      slowHandlerMs: this.options.slowHandlerMs,
      skipSelf: opts.skipSelf ?? this.options.skipSelf
    }, this.dispatch, this.log)
    const route = this.addRoute(channel, pattern)
    route.slots.add(slot)
    try {
      await route.ready
    } catch (err) {
      // The unsubscribe may fail for the same reason; the subscribe error is the one to report.
      this.removeSlot(route, slot).catch(() => {})
      throw err
    }
    let done = false
    return async () => {
      if (done) return
      done = true
      await this.removeSlot(route, slot)
    }
  }

  /** Subscribes a handler to the channels matching a glob pattern (`*`, `?`, `[...]`, `\\` escapes). */
  async psubscribe (pattern: string, handler: Handler, opts: Omit<SubscribeOptions, 'pattern'> = {}): Promise<Unsubscribe> {
    return await this.subscribe(pattern, handler, { ...opts, pattern: true })
  }

  /** The name subscribed in Redis: a pattern must not read glob characters of the key prefix as wildcards. */
  private redisName (name: string, pattern: boolean): string {
    return pattern ? escapeGlob(this.prefix) + name : this.prefix + name
  }

  private addRoute (name: string, pattern: boolean): Route {
    const redisName = this.redisName(name, pattern)
    const routes = pattern ? this.routes.pattern : this.routes.channel
    let route = routes.get(redisName)
    if (route === undefined) {
      // The command is sent now, so it reaches Redis in call order with any unsubscribe.
      const ready = pattern ? this.transport.psubscribe(redisName) : this.transport.subscribe(redisName)
      const created: Route = { name, pattern, slots: new Set(), seqs: new Map(), tracked: 0, ready, confirmed: false }
      ready.then(() => { created.confirmed = true }, () => {})
      routes.set(redisName, created)
      route = created
    }
    return route
  }

  private async removeSlot (route: Route, slot: HandlerSlot<PubsubMessage>): Promise<void> {
    slot.close()
    if (!route.slots.delete(slot) || route.slots.size > 0) return
    const redisName = this.redisName(route.name, route.pattern)
    const routes = route.pattern ? this.routes.pattern : this.routes.channel
    if (routes.get(redisName) !== route) return
    routes.delete(redisName)
    if (this.closed) return
    await (route.pattern ? this.transport.punsubscribe(redisName) : this.transport.unsubscribe(redisName))
  }

  private receive (route: Route | undefined, fullChannel: string, payload: string): void {
    if (route === undefined) return
    const channel = route.pattern ? fullChannel.slice(this.prefix.length) : route.name
    const decoded = decodeMessages(payload, channel)
    if (decoded === undefined) {
      this.counters.malformed++
      return
    }
    if (!Array.isArray(decoded)) this.deliver(route, channel, decoded)
    else for (const message of decoded) this.deliver(route, channel, message)
  }

  private deliver (route: Route, channel: string, message: PubsubMessage): void {
    this.counters.received++
    this.track(route, channel, message.publisher, message.seq)
    if (route.pattern) message.pattern = route.name
    const self = message.publisher === this.instanceId
    for (const slot of route.slots) {
      if (self && slot.options.skipSelf) continue
      slot.push(message)
    }
  }

  /**
   * Sequence numbers are per publisher and channel, so the next message from a
   * publisher reveals how many of its messages were lost meanwhile, including
   * during this subscriber's own disconnect.
   */
  private track (route: Route, channel: string, publisher: string, seq: number): void {
    let publishers = route.seqs.get(channel)
    if (publishers === undefined) {
      publishers = new Map()
      route.seqs.set(channel, publishers)
    }
    const last = publishers.get(publisher)
    if (last !== undefined && seq <= last) {
      // The publisher forgot this channel (see outgoingChannel) and counts afresh.
      if (seq === 1) publishers.set(publisher, 1)
      return
    }
    if (last === undefined && ++route.tracked > this.options.gapTracking) {
      // Bounded memory: forget the oldest channel's positions (its next message starts afresh).
      const [oldest, forgotten] = route.seqs.entries().next().value!
      route.seqs.delete(oldest)
      route.tracked -= forgotten.size
      if (oldest === channel) {
        publishers = new Map()
        route.seqs.set(channel, publishers)
        route.tracked++
      }
    }
    publishers.set(publisher, seq)
    if (last === undefined || seq === last + 1) return
    const gap: GapInfo = { channel, publisher, missed: seq - last - 1, lastSeq: last, seq }
    this.counters.gaps++
    this.counters.missed += gap.missed
    this.log.warn(gap, 'redkit pubsub: messages were lost (sequence gap)')
    this.emit('gap', gap)
  }

  /** Async iterator over a channel's messages; ends when the signal aborts or the app closes. */
  async * iterate<C extends string> (channel: C, opts: IterateOptions = {}): AsyncGenerator<PubsubMessage<Payload<M, C>>> {
    const max = check.integer(opts.maxBuffer, 'maxBuffer', 1, 10_000_000, this.options.maxPending)
    const buffer: Array<PubsubMessage<Payload<M, C>>> = []
    let wake: (() => void) | undefined
    const off = await this.subscribe(channel, (message) => {
      if (buffer.length >= max) {
        buffer.shift()
        this.dispatch.dropped++
      }
      buffer.push(message)
      wake?.()
    }, { ...(opts.skipSelf !== undefined ? { skipSelf: opts.skipSelf } : {}), ...(opts.pattern !== undefined ? { pattern: opts.pattern } : {}) })
    const stop = (): void => wake?.()
    opts.signal?.addEventListener('abort', stop)
    this.once('close', stop)
    try {
      while (opts.signal?.aborted !== true && !this.closed) {
        const next = buffer.shift()
        if (next !== undefined) {
          yield next
          continue
        }
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
      }
    } finally {
      opts.signal?.removeEventListener('abort', stop)
      this.off('close', stop)
      await off()
    }
  }

  /** A durable channel on a Redis Stream with a consumer group. */
  stream<C extends string> (name: C, opts: StreamOptions = {}): DurableStream<Payload<M, C>> {
    if (this.closed) throw new PubsubClosedError()
    checkChannel(name, this.options.maxChannelLength, 'stream name')
    const resolved = checkStreamOptions(opts, this.options.worker ?? this.instanceId, this.redkit.commandTimeout)
    const stream = new DurableStream<Payload<M, C>>(name, this.streamKey(name), resolved, {
      transport: this.transport,
      log: this.log,
      encode: (channel, data) => this.encodeOnce(channel, data),
      notify: async (channel, payload) => {
        this.batcher.flush()
        return await this.transport.publish(this.prefix + channel, payload)
      },
      isClosed: () => this.closed,
      consumerKey: this.redkit.key('ps', 'consumer', name, resolved.group, resolved.consumer)
    })
    this.streams.set(`${name}\n${resolved.group}\n${resolved.consumer}`, stream as DurableStream<unknown>)
    return stream
  }

  streamKey (name: string): string {
    return this.redkit.key('ps', 'stream', name)
  }

  isDurable (channel: string): boolean {
    for (const stream of this.streams.values()) if (stream.name === channel) return true
    return false
  }

  /** Streams a channel to the client as Server-Sent Events; resolves once the stream is open. */
  async sse<C extends string> (request: FastifyRequest, reply: FastifyReply, channel: C, opts: SseOptions = {}): Promise<void> {
    if (this.closed) throw new PubsubClosedError()
    checkChannel(channel, this.options.maxChannelLength)
    const durable = opts.durable ?? this.isDurable(channel)
    await openSse({
      request,
      reply,
      channel,
      durable,
      heartbeatMs: check.integer(opts.heartbeatMs, 'heartbeatMs', 10, 3_600_000, this.options.heartbeatMs),
      maxBuffer: check.integer(opts.maxBuffer, 'maxBuffer', 1024, 1024 * 1024 * 1024, 1024 * 1024),
      subscribe: async (handler) => await this.subscribe(channel, handler, { pattern: false }),
      range: async (after, count) => await this.transport.range(this.streamKey(channel), after, count),
      clients: this.sseClients,
      log: this.log
    })
  }

  private allRoutes (): Route[] {
    return [...this.routes.channel.values(), ...this.routes.pattern.values()]
  }

  stats (): PubsubStats {
    const channels: PubsubStats['channels'] = []
    const patterns: PubsubStats['patterns'] = []
    for (const route of this.allRoutes()) {
      if (!route.confirmed) continue
      if (route.pattern) patterns.push({ pattern: route.name, subscribers: route.slots.size })
      else channels.push({ channel: route.name, subscribers: route.slots.size })
    }
    return {
      mode: this.transport.kind,
      sharded: this.transport.sharded,
      channels,
      patterns,
      ...this.counters,
      ...this.dispatch,
      sseClients: this.sseClients.size,
      streams: [...this.streams.values()].map((s) => s.stats())
    }
  }

  /** Ends SSE responses first: open event streams would otherwise hold the HTTP server open. */
  closeSse (): void {
    for (const end of [...this.sseClients]) end()
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Messages published before close() are sent, as when each went out at once.
    this.batcher.flush()
    this.emit('close')
    this.closeSse()
    await Promise.all([...this.streams.values()].map(async (s) => await s.stop()))
    for (const route of this.allRoutes()) for (const slot of route.slots) slot.close()
    this.routes.channel.clear()
    this.routes.pattern.clear()
    await this.transport.close()
  }
}
