import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from './connection.js'
import { backoff } from './connection.js'

export type MessageListener = (channel: string, message: string) => void

/** How often a probing subscription is checked by a message the app sends itself. */
export const PROBE_INTERVAL = 2000

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
  /**
   * While this returns true, the subscription is checked every PROBE_INTERVAL
   * by a message the app sends itself; one that does not come back by the next
   * check counts as a loss. A Cluster client moves its subscriber to another
   * node by itself and drops the channels without a word when subscribing there
   * fails: only a probe notices. E.g. `() => true` for a local cache that must
   * hear every change, or "while anyone waits".
   */
  probe?: () => boolean
}

export interface RedkitSubscription {
  /** Resolves once the names are subscribed the first time; core retries until then. Never rejects. */
  readonly ready: Promise<void>
  /** True while subscribed; false while the connection is lost or being subscribed again. */
  readonly active: boolean
  /** Times this subscription was lost after it was made (each logged). */
  readonly losses: number
  /** SUBSCRIBE attempts for it that failed (each retried). */
  readonly failures: number
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

/** One subscribe() call: its names, listener and state. */
interface Sub {
  kind: 'channel' | 'pattern'
  listener: MessageListener
  opts: SubscribeOptions
  entries: Entry[]
  active: boolean
  losses: number
  failures: number
  resolve: () => void
}

/** One name of a Sub. */
interface Entry {
  sub: Sub
  name: string
  subscribed: boolean
}

export interface HubConnection {
  /** Opens the subscriber connection (a duplicate of the app's client). */
  open: () => RedisClient
  /** Publishes on the app's client, for probes. */
  publish: (channel: string, message: string) => Promise<unknown>
  /** The channel of this app's probes. */
  probeChannel: string
}

/**
 * One subscriber connection shared by every redkit.subscribe() of the app. It
 * subscribes with retries and backoff, subscribes everything again on each
 * reconnect (rather than trusting ioredis to, which drops a failed
 * resubscription on Cluster), checks probing subscriptions with a message to
 * itself, and logs one line on loss and one on recovery.
 */
export class SubscriberHub {
  private conn: RedisClient | undefined
  private readonly subs = new Set<Sub>()
  private lostAt: number | undefined
  private attempt = 0
  private retry: NodeJS.Timeout | undefined
  private syncing = false
  /** Moves on every loss, so a SUBSCRIBE answered before it is not taken as current. */
  private generation = 0
  private closed = false
  private checks: NodeJS.Timeout | undefined
  private probeSub: Sub | undefined
  private probes = 0
  private probe: string | null = null
  /** Whether PUBLISH of the probe has returned: until then a slow server, not a lost subscription, may be why. */
  private published = false

  constructor (private readonly link: HubConnection, private readonly log: FastifyBaseLogger,
    private readonly stats: SubscriberStats) {}

  add (names: string[], listener: MessageListener, opts: SubscribeOptions = {}): RedkitSubscription {
    let settle!: () => void
    const ready = new Promise<void>((resolve) => { settle = resolve })
    const sub = this.register(names, listener, opts, settle)
    if (opts.probe !== undefined) this.startProbing()
    return {
      ready,
      get active () { return sub.active },
      get losses () { return sub.losses },
      get failures () { return sub.failures },
      close: async () => {
        this.subs.delete(sub)
        sub.resolve()
        await this.unsubscribeUnused(sub)
      }
    }
  }

  private register (names: string[], listener: MessageListener, opts: SubscribeOptions, resolve: () => void): Sub {
    const sub: Sub = { kind: opts.pattern === true ? 'pattern' : 'channel', listener, opts, entries: [], active: false, losses: 0, failures: 0, resolve }
    sub.entries = names.map((name) => ({ sub, name, subscribed: false }))
    this.subs.add(sub)
    this.connection()
    this.sync()
    return sub
  }

  stop (): void {
    this.closed = true
    clearTimeout(this.retry)
    clearInterval(this.checks)
    for (const sub of this.subs) sub.resolve()
  }

  private connection (): RedisClient {
    if (this.conn !== undefined) return this.conn
    const conn = this.link.open()
    this.conn = conn
    conn.on('message', (channel: string, message: string) => this.dispatch('channel', channel, channel, message))
    conn.on('pmessage', (pattern: string, channel: string, message: string) => this.dispatch('pattern', pattern, channel, message))
    conn.on('close', () => this.lost('the connection closed'))
    conn.on('ready', () => this.sync())
    // On Cluster, ioredis moves the subscriber to another node when its node
    // leaves, and gives up on channels it fails to subscribe there: check again.
    conn.on('-node', () => {
      this.lost('a Cluster node left the pool')
      this.sync()
    })
    return conn
  }

  private dispatch (kind: Sub['kind'], name: string, channel: string, message: string): void {
    for (const sub of this.subs) {
      if (sub.kind !== kind) continue
      for (const entry of sub.entries) if (entry.name === name) sub.listener(channel, message)
    }
  }

  private notify (callback: (() => void) | undefined): void {
    try {
      callback?.()
    } catch (err) {
      this.log.error({ err }, 'redkit: a subscription callback threw')
    }
  }

  /** Marks every name as needing SUBSCRIBE again, telling each owner once. */
  private lost (reason: string): void {
    if (this.closed) return
    this.generation++
    this.probe = null
    for (const sub of this.subs) {
      for (const entry of sub.entries) entry.subscribed = false
      if (!sub.active) continue
      sub.active = false
      sub.losses++
      this.notify(sub.opts.onInactive)
    }
    if (this.lostAt !== undefined) return
    this.lostAt = Date.now()
    this.stats.subscriberLost++
    this.log.warn({ role: 'subscriber', reason },
      'redkit: subscriber connection lost; messages published meanwhile are missed, subscribing again when it is back')
  }

  /** Subscribes every name not yet subscribed; on failure, tries again after a backoff. */
  private sync (): void {
    if (this.syncing || this.closed) return
    const conn = this.connection()
    const pending = [...this.subs].flatMap((sub) => sub.entries.filter((e) => !e.subscribed))
    if (pending.length === 0 || conn.status !== 'ready') return
    this.syncing = true
    const generation = this.generation
    const names = (kind: Sub['kind']): string[] => [...new Set(pending.filter((e) => e.sub.kind === kind).map((e) => e.name))]
    const channels = names('channel')
    const patterns = names('pattern')
    Promise.all([
      channels.length > 0 ? conn.subscribe(...channels) : undefined,
      patterns.length > 0 ? conn.psubscribe(...patterns) : undefined
    ]).then(() => {
      this.syncing = false
      if (generation === this.generation) this.subscribed(pending)
      this.sync()
    }, (err: Error) => {
      this.syncing = false
      this.failed(pending, err)
    })
  }

  private subscribed (pending: Entry[]): void {
    const failedBefore = this.attempt
    this.attempt = 0
    for (const entry of pending) entry.subscribed = true
    for (const sub of new Set(pending.map((e) => e.sub))) {
      if (!this.subs.has(sub) || sub.active || !sub.entries.every((e) => e.subscribed)) continue
      sub.active = true
      sub.resolve()
      this.notify(sub.opts.onActive)
    }
    if (this.lostAt !== undefined) {
      this.stats.subscriberRecovered++
      this.log.info({ role: 'subscriber', downtimeMs: Date.now() - this.lostAt }, 'redkit: subscriber connection recovered; subscribed again')
      this.lostAt = undefined
    } else if (failedBefore > 0) {
      this.log.info({ role: 'subscriber', failedAttempts: failedBefore }, 'redkit: SUBSCRIBE succeeded after failed attempts')
    }
  }

  private failed (pending: Entry[], err: Error): void {
    this.stats.subscribeRetries++
    for (const sub of new Set(pending.map((e) => e.sub))) sub.failures++
    // One line per run of failures; the retries that follow are debug.
    const level = this.attempt === 0 ? 'warn' : 'debug'
    this.log[level]({ role: 'subscriber', err: err.message }, 'redkit: SUBSCRIBE failed; retrying with backoff until it succeeds')
    clearTimeout(this.retry)
    this.retry = setTimeout(() => this.sync(), backoff(this.attempt++))
    this.retry.unref()
  }

  private async unsubscribeUnused (removed: Sub): Promise<void> {
    const conn = this.conn
    if (conn === undefined || conn.status !== 'ready') return
    const still = (name: string): boolean => [...this.subs].some((s) => s.kind === removed.kind && s.entries.some((e) => e.name === name))
    const names = [...new Set(removed.entries.map((e) => e.name))].filter((name) => !still(name))
    if (names.length === 0) return
    if (removed.kind === 'channel') await conn.unsubscribe(...names).catch(() => {})
    else await conn.punsubscribe(...names).catch(() => {})
  }

  /** Subscribes the probe channel and checks, every PROBE_INTERVAL, that probes come back. */
  private startProbing (): void {
    if (this.probeSub !== undefined) return
    const channel = this.link.probeChannel
    this.probeSub = this.register([channel], (_, message) => { if (message === this.probe) this.probe = null }, {}, () => {})
    this.checks = setInterval(() => this.check(), PROBE_INTERVAL)
    this.checks.unref()
  }

  private check (): void {
    const wanted = [...this.subs].some((s) => s.active && s.opts.probe?.() === true)
    if (this.closed || !wanted || this.probeSub?.active !== true) {
      this.probe = null
      return
    }
    if (this.probe !== null && !this.published) return
    if (this.probe !== null) {
      this.lost('a probe message did not come back')
      this.sync()
      return
    }
    const sent = String(++this.probes)
    this.probe = sent
    this.published = false
    // Unanswered while Redis is down: that is not a lost subscription.
    this.link.publish(this.link.probeChannel, sent).then(() => { if (this.probe === sent) this.published = true }, () => { if (this.probe === sent) this.probe = null })
  }
}
