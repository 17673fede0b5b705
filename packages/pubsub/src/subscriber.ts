import type { FastifyBaseLogger } from 'fastify'
import { backoff as coreBackoff, type Redkit, type RedisClient } from '@redkit/core'
import type { Cluster, Redis } from 'ioredis'
import type { MessageSink } from './backend.js'

export interface ResubscribeInfo {
  channels: number
  patterns: number
  downtimeMs: number
  /** SUBSCRIBE rounds it took; more than 1 when Redis refused the first ones. */
  attempts: number
}

export interface SubscriberLostInfo {
  channels: number
  patterns: number
  /** host:port of the node the connection was on. */
  node: string
}

/** What a subscriber connection reports, and the subscriptions it must restore. */
export interface SubscriberHooks {
  log: FastifyBaseLogger
  sink: MessageSink
  channels: ReadonlySet<string>
  patterns: ReadonlySet<string>
  onLost: (info: SubscriberLostInfo) => void
  onResubscribed: (info: ResubscribeInfo) => void
  onRetry: (err: Error, attempt: number) => void
}

const BACKOFF_BASE_MS = 100
const BACKOFF_MAX_MS = 5000
/** Reconnects to one Cluster node before trying another. */
const NODE_ATTEMPTS = 3

/** Core's reconnect backoff (exponential, with jitter so that many instances do not retry in step). */
function backoff (attempt: number): number {
  return coreBackoff(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS)
}

function nodeOf (conn: Redis): string {
  return `${conn.options.host ?? ''}:${conn.options.port ?? ''}`
}

function listen (conn: RedisClient, sink: MessageSink): void {
  conn.on('message', (channel: string, payload: string) => sink(channel, channel, payload, false))
  conn.on('smessage', (channel: string, payload: string) => sink(channel, channel, payload, false))
  conn.on('pmessage', (pattern: string, channel: string, payload: string) => sink(pattern, channel, payload, true))
}

/**
 * One connection in subscriber mode that is never lost silently: a drop is
 * logged and counted, and once the connection is back every channel and
 * pattern is subscribed again, with retries and backoff until Redis confirms.
 * When the connection ends for good (a Cluster node that went away), a new one
 * is opened, on the next node.
 */
export class Subscriber {
  private conn: Redis
  private everReady = false
  private lostAt: number | undefined
  /** Moves on each drop, so a restore loop of an older connection stops. */
  private generation = 0
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false
  private opened = 0
  /** Connections given up for a new one; their own close and end are no longer ours to act on. */
  private readonly left = new WeakSet<Redis>()

  /**
   * `open` makes a connection, or returns undefined when there is nowhere to
   * connect for now; `reopen` says whether an ended connection is replaced
   * (a core duplicate reconnects by itself and only ends when closed).
   */
  constructor (private readonly open: (attempt: number) => Redis | undefined, private readonly hooks: SubscriberHooks,
    private readonly reopen: boolean, private readonly cleanup = (): void => {}) {
    const conn = this.connect()
    if (conn === undefined) throw new Error('redkit pubsub: no Redis node to subscribe on')
    this.conn = conn
  }

  get connection (): Redis {
    return this.conn
  }

  private connect (): Redis | undefined {
    const conn = this.open(this.opened++)
    if (conn === undefined) return undefined
    listen(conn, this.hooks.sink)
    conn.on('close', () => { if (conn === this.conn && !this.left.has(conn)) this.lost() })
    conn.on('ready', () => {
      if (conn !== this.conn) return
      this.everReady = true
      if (this.lostAt !== undefined) this.restore(this.generation, 1)
    })
    conn.on('end', () => {
      if (conn !== this.conn || this.left.has(conn) || this.closed || !this.reopen) return
      this.lost()
      this.replace()
    })
    return conn
  }

  private replace (): void {
    this.retryTimer = setTimeout(() => {
      if (this.closed) return
      const next = this.connect()
      if (next === undefined) this.replace()
      else this.conn = next
    }, backoff(this.opened)).unref()
  }

  /**
   * Gives up the current connection for one on the next node. Not left to
   * disconnect() and the 'end' it brings: a connection waiting to reconnect
   * ends without a word, and would be waited on forever.
   */
  moveOn (): void {
    if (this.closed || !this.reopen) return
    const conn = this.conn
    this.lost()
    this.left.add(conn)
    conn.disconnect()
    clearTimeout(this.retryTimer)
    this.replace()
  }

  private lost (): void {
    this.generation++
    if (this.closed || !this.everReady || this.lostAt !== undefined) return
    this.lostAt = Date.now()
    const info = { channels: this.hooks.channels.size, patterns: this.hooks.patterns.size, node: nodeOf(this.conn) }
    this.hooks.log.warn(info, 'redkit pubsub: subscriber connection lost; resubscribing when it is back')
    this.hooks.onLost(info)
  }

  private restore (generation: number, attempt: number): void {
    const { channels, patterns, log } = this.hooks
    const conn = this.conn
    const names = [...channels]
    const globs = [...patterns]
    Promise.all([
      names.length > 0 ? conn.subscribe(...names) : 0,
      globs.length > 0 ? conn.psubscribe(...globs) : 0
    ]).then(() => {
      if (generation !== this.generation || this.closed) return
      const info = { channels: names.length, patterns: globs.length, downtimeMs: Date.now() - (this.lostAt ?? Date.now()), attempts: attempt }
      this.lostAt = undefined
      log.info(info, 'redkit pubsub: subscriber reconnected and resubscribed')
      this.hooks.onResubscribed(info)
    }, (err: Error) => {
      if (generation !== this.generation || this.closed) return
      const delay = backoff(attempt)
      log.warn({ err: err.message, attempt, retryInMs: delay }, 'redkit pubsub: resubscribe failed; retrying')
      this.hooks.onRetry(err, attempt)
      this.retryTimer = setTimeout(() => { if (generation === this.generation) this.restore(generation, attempt + 1) }, delay).unref()
    })
  }

  close (): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.cleanup()
    this.conn.disconnect()
  }
}

/** Standalone and Sentinel: a core duplicate, which reconnects by itself; resubscribing is ours. */
export function standaloneSubscriber (redkit: Redkit, hooks: SubscriberHooks): Subscriber {
  return new Subscriber(() => redkit.duplicate({ overrides: { autoResubscribe: false } }) as Redis, hooks, false)
}

/**
 * Classic pub/sub on Cluster: a PUBLISH reaches every node, so one connection
 * to any master hears every channel. ioredis's own cluster subscriber would
 * move to another node and resubscribe silently, ignoring failures; here a
 * lost node is logged and counted, and the next master is tried after a few
 * reconnects, or at once when the node leaves the cluster.
 */
export function clusterSubscriber (cluster: Cluster, hooks: SubscriberHooks): Subscriber {
  const onNodeGone = (node: Redis): void => {
    if (cluster.status === 'ready' && nodeOf(node) === nodeOf(subscriber.connection)) subscriber.moveOn()
  }
  const subscriber = new Subscriber((attempt) => {
    const masters = cluster.nodes('master')
    if (masters.length === 0 || cluster.status === 'end') return undefined
    return masters[attempt % masters.length]!.duplicate({
      autoResubscribe: false,
      lazyConnect: false,
      enableOfflineQueue: true,
      retryStrategy: (times: number) => times > NODE_ATTEMPTS ? null : backoff(times)
    })
  }, hooks, true, () => { cluster.off('-node', onNodeGone) })
  cluster.on('-node', onNodeGone)
  return subscriber
}

/**
 * Sharded pub/sub on Cluster: ioredis keeps one subscriber per shard and
 * restores them itself, with its own backoff; we log and count what it reports.
 */
export function shardedSubscriber (redkit: Redkit, hooks: SubscriberHooks): Cluster {
  const sub = redkit.duplicate({ overrides: { shardedSubscribers: true } }) as Cluster
  listen(sub, hooks.sink)
  let lostAt: number | undefined
  let attempts = 1
  sub.on('-subscriber', () => {
    if (lostAt !== undefined) return
    lostAt = Date.now()
    const info = { channels: hooks.channels.size, patterns: 0, node: 'shard' }
    hooks.log.warn(info, 'redkit pubsub: sharded subscriber connection lost; resubscribing when it is back')
    hooks.onLost(info)
  })
  sub.on('error', (err: Error) => {
    if (lostAt === undefined) return
    hooks.log.warn({ err: err.message, attempt: attempts }, 'redkit pubsub: sharded subscriber could not reconnect; retrying')
    hooks.onRetry(err, attempts++)
  })
  sub.on('subscribersReady', () => {
    if (lostAt === undefined) return
    const info = { channels: hooks.channels.size, patterns: 0, downtimeMs: Date.now() - lostAt, attempts }
    lostAt = undefined
    attempts = 1
    hooks.log.info(info, 'redkit pubsub: cluster subscriber reconnected and resubscribed')
    hooks.onResubscribed(info)
  })
  return sub
}
