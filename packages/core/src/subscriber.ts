import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from './connection.js'
import { backoff } from './connection.js'

export type MessageListener = (channel: string, message: string) => void

export interface SubscribeOptions {
  /** Treat the names as PSUBSCRIBE patterns; the listener gets the channel that matched. */
  pattern?: boolean
  /**
   * Called each time the names are subscribed: the first time and after every
   * loss. Messages published meanwhile were missed, e.g. wake waiters now.
   */
  onActive?: () => void
  /** Called when the subscription is lost (it is retried); e.g. stop trusting a local cache. */
  onInactive?: () => void
}

export interface RedkitSubscription {
  /** Resolves once the names are subscribed the first time; core retries until then. Never rejects. */
  readonly ready: Promise<void>
  /** True while subscribed; false while the connection is lost or being subscribed again. */
  readonly active: boolean
  /** Stops listening; the shared connection closes with the app. */
  close: () => Promise<void>
}

export interface SubscriberStats {
  /** Times the shared subscriber connection was lost. */
  subscriberLost: number
  /** Times its subscriptions were made again after a loss. */
  subscriberRecovered: number
  /** SUBSCRIBE attempts that failed and were retried. */
  subscribeRetries: number
}

interface Entry {
  kind: 'channel' | 'pattern'
  name: string
  listener: MessageListener
  subscribed: boolean
  resolve: () => void
  opts: SubscribeOptions
}

/**
 * One subscriber connection shared by every redkit.subscribe() of the app. It
 * subscribes with retries and backoff, subscribes everything again on each
 * reconnect (rather than trusting ioredis to, which drops a failed
 * resubscription on Cluster), and logs one line on loss and one on recovery.
 */
export class SubscriberHub {
  private conn: RedisClient | undefined
  private readonly entries = new Set<Entry>()
  private lostAt: number | undefined
  private attempt = 0
  private retry: NodeJS.Timeout | undefined
  private syncing = false
  private closed = false

  constructor (private readonly open: () => RedisClient, private readonly log: FastifyBaseLogger,
    private readonly stats: SubscriberStats) {}

  add (names: string[], listener: MessageListener, opts: SubscribeOptions = {}): RedkitSubscription {
    const kind = opts.pattern === true ? 'pattern' : 'channel'
    const mine = names.map((name) => {
      let settle!: () => void
      const ready = new Promise<void>((resolve) => { settle = resolve })
      const entry: Entry = { kind, name, listener, subscribed: false, resolve: settle, opts }
      this.entries.add(entry)
      return { entry, ready }
    })
    this.connection()
    this.sync()
    return {
      ready: Promise.all(mine.map(async ({ ready }) => await ready)).then(() => {}),
      get active () { return mine.every(({ entry }) => entry.subscribed) },
      close: async () => {
        for (const { entry } of mine) {
          this.entries.delete(entry)
          entry.resolve()
        }
        await this.unsubscribeUnused(mine.map(({ entry }) => entry))
      }
    }
  }

  stop (): void {
    this.closed = true
    clearTimeout(this.retry)
    for (const entry of this.entries) entry.resolve()
  }

  private connection (): RedisClient {
    if (this.conn !== undefined) return this.conn
    const conn = this.open()
    this.conn = conn
    conn.on('message', (channel: string, message: string) => this.dispatch('channel', channel, channel, message))
    conn.on('pmessage', (pattern: string, channel: string, message: string) => this.dispatch('pattern', pattern, channel, message))
    conn.on('close', () => this.lost())
    conn.on('ready', () => this.sync())
    // On Cluster, ioredis moves the subscriber to another node when its node
    // leaves, and gives up on channels it fails to subscribe there: check again.
    conn.on('-node', () => {
      this.unsubscribed()
      this.sync()
    })
    return conn
  }

  private dispatch (kind: Entry['kind'], name: string, channel: string, message: string): void {
    for (const entry of this.entries) {
      if (entry.kind === kind && entry.name === name) entry.listener(channel, message)
    }
  }

  /** Marks every name as needing SUBSCRIBE again, telling their owners once. */
  private unsubscribed (): void {
    for (const entry of this.entries) {
      if (!entry.subscribed) continue
      entry.subscribed = false
      this.notify(entry.opts.onInactive)
    }
  }

  private notify (callback: (() => void) | undefined): void {
    try {
      callback?.()
    } catch (err) {
      this.log.error({ err }, 'redkit: a subscription callback threw')
    }
  }

  private lost (): void {
    if (this.closed) return
    this.unsubscribed()
    if (this.lostAt !== undefined) return
    this.lostAt = Date.now()
    this.stats.subscriberLost++
    this.log.warn({ role: 'subscriber' }, 'redkit: subscriber connection lost; messages published meanwhile are missed, subscribing again when it is back')
  }

  /** Subscribes every name not yet subscribed; on failure, tries again after a backoff. */
  private sync (): void {
    if (this.syncing || this.closed) return
    const conn = this.connection()
    const pending = [...this.entries].filter((e) => !e.subscribed)
    if (pending.length === 0 || conn.status !== 'ready') return
    this.syncing = true
    const channels = pending.filter((e) => e.kind === 'channel').map((e) => e.name)
    const patterns = pending.filter((e) => e.kind === 'pattern').map((e) => e.name)
    Promise.all([
      channels.length > 0 ? conn.subscribe(...channels) : undefined,
      patterns.length > 0 ? conn.psubscribe(...patterns) : undefined
    ]).then(() => {
      this.syncing = false
      this.attempt = 0
      for (const entry of pending) {
        if (!this.entries.has(entry)) continue
        entry.subscribed = true
        entry.resolve()
        this.notify(entry.opts.onActive)
      }
      if (this.lostAt !== undefined) {
        this.stats.subscriberRecovered++
        this.log.info({ role: 'subscriber', downtimeMs: Date.now() - this.lostAt }, 'redkit: subscriber connection recovered; subscribed again')
        this.lostAt = undefined
      }
      this.sync()
    }, (err: Error) => {
      this.syncing = false
      this.stats.subscribeRetries++
      this.log.debug({ role: 'subscriber', err: err.message }, 'redkit: SUBSCRIBE failed; retrying')
      clearTimeout(this.retry)
      this.retry = setTimeout(() => this.sync(), backoff(this.attempt++))
      this.retry.unref()
    })
  }

  private async unsubscribeUnused (removed: Entry[]): Promise<void> {
    const conn = this.conn
    if (conn === undefined || conn.status !== 'ready') return
    const still = (e: Entry): boolean => [...this.entries].some((o) => o.kind === e.kind && o.name === e.name)
    const channels = removed.filter((e) => e.kind === 'channel' && !still(e)).map((e) => e.name)
    const patterns = removed.filter((e) => e.kind === 'pattern' && !still(e)).map((e) => e.name)
    if (channels.length > 0) await conn.unsubscribe(...channels).catch(() => {})
    if (patterns.length > 0) await conn.punsubscribe(...patterns).catch(() => {})
  }
}
