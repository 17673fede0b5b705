import type { FastifyBaseLogger } from 'fastify'
import type { Redkit, RedkitScript, RedisClient } from '@redkit/core'
import type { AcquireResult, Backend, BackendEvents, ChangeMessage, Invalidated, WriteOp } from './backend.js'
import { ACQUIRE, DEL, INVALIDATE, PEEK, RELEASE, SET } from './lua.js'
import { Waiters } from './waiters.js'

const CLOCK_REFRESH = 60_000
const UNLINK_BATCH = 200

/**
 * Shared storage in Redis. Reads are a plain GET so a hit costs what a raw
 * GET costs; writes, fills and invalidations are single Lua scripts that
 * also publish a change message on one channel per app prefix.
 */
export class RedisBackend implements Backend {
  readonly shared = true
  private readonly client: RedisClient
  private readonly channel: string
  private offset = 0
  private clockTimer: NodeJS.Timeout | undefined
  private subscriber: RedisClient | null = null
  private subscribing: Promise<void> | null = null
  private listening = false
  private readonly waiters = new Waiters()
  private readonly scripts: {
    set: RedkitScript<number>
    acquire: RedkitScript<[number, string?]>
    peek: RedkitScript<[string | null, number]>
    release: RedkitScript<number>
    del: RedkitScript<number>
    invalidate: RedkitScript<Array<string | number>>
  }

  constructor (private readonly redkit: Redkit, private readonly log: FastifyBaseLogger, private readonly events: BackendEvents) {
    if (redkit.client === null) throw new Error('RedisBackend needs a Redis client')
    this.client = redkit.client
    this.channel = redkit.key('cache', 'changes')
    this.scripts = {
      set: redkit.defineScript<number>('redkitCacheSet', SET),
      acquire: redkit.defineScript<[number, string?]>('redkitCacheAcquire', ACQUIRE, 2),
      peek: redkit.defineScript<[string | null, number]>('redkitCachePeek', PEEK, 2),
      release: redkit.defineScript<number>('redkitCacheRelease', RELEASE, 1),
      del: redkit.defineScript<number>('redkitCacheDel', DEL),
      invalidate: redkit.defineScript<Array<string | number>>('redkitCacheInvalidate', INVALIDATE)
    }
  }

  /** Measures the offset to the server clock, so freshness is judged on Redis time. */
  async syncClock (): Promise<void> {
    try {
      const before = Date.now()
      const [seconds, micros] = await this.client.time()
      const after = Date.now()
      this.offset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (before + after) / 2
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'redkit cache: could not read the Redis clock; keeping the last offset')
    }
    if (this.clockTimer === undefined) {
      this.clockTimer = setInterval(() => { this.syncClock().catch(() => {}) }, CLOCK_REFRESH)
      this.clockTimer.unref()
    }
  }

  now (): number { return Date.now() + this.offset }

  private message (keys: string[]): string {
    return JSON.stringify({ i: this.redkit.instanceId, k: keys } satisfies ChangeMessage)
  }

  // Not async: handing back ioredis' own promise keeps the hit path one hop shorter.
  get (key: string): Promise<string | null> {
    return this.client.get(key)
  }

  async set (op: WriteOp): Promise<void> {
    await this.scripts.set([op.key, op.lock, ...op.tags], [
      op.payload, op.ttl, op.staleTtl, op.token, this.channel, this.message([op.key])])
  }

  async peek (key: string, lock: string): Promise<AcquireResult> {
    const [value, locked] = await this.scripts.peek([key, lock])
    return { value: value ?? null, locked: locked === 1 }
  }

  async acquire (key: string, lock: string, token: string, ttl: number): Promise<AcquireResult> {
    const [status, value] = await this.scripts.acquire([key, lock], [token, ttl])
    if (status === 1) return { value: value ?? null, locked: false }
    return { value: null, locked: status === 2 }
  }

  async tryLock (lock: string, token: string, ttl: number): Promise<boolean> {
    return await this.client.set(lock, token, 'PX', ttl, 'NX') === 'OK'
  }

  async release (key: string, lock: string, token: string): Promise<void> {
    await this.scripts.release([lock], [token, this.channel, this.message([key])])
  }

  async del (keys: string[]): Promise<number> {
    if (keys.length === 0) return 0
    return await this.scripts.del(keys, [this.channel, this.message(keys)])
  }

  async invalidate (tags: string[], namespacePrefix: string): Promise<Invalidated> {
    if (tags.length === 0) return { deleted: 0, keys: [] }
    const [deleted, ...keys] = await this.scripts.invalidate(tags, [this.channel, this.redkit.instanceId, namespacePrefix])
    return { deleted: Number(deleted), keys: keys.length === 1 && keys[0] === '*' ? null : keys.map(String) }
  }

  async clear (prefix: string): Promise<number> {
    const pattern = this.redkit.escapeGlob(prefix) + '*'
    let batch: string[] = []
    let removed = 0
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      const keys = batch
      batch = []
      // Keys of one namespace share a hash tag, so a batch is one slot.
      removed += await this.client.unlink(...keys)
    }
    for await (const key of this.redkit.scan(pattern, { count: 500 })) {
      batch.push(key)
      if (batch.length >= UNLINK_BATCH) await flush()
    }
    await flush()
    await this.client.publish(this.channel, JSON.stringify({ i: this.redkit.instanceId, p: prefix } satisfies ChangeMessage))
    return removed
  }

  async wait (key: string, ms: number): Promise<void> {
    this.listen().catch(() => {})
    await this.waiters.wait(key, ms)
  }

  private onMessage (channel: string, text: string): void {
    if (channel !== this.channel) return
    let message: ChangeMessage
    try {
      message = JSON.parse(text) as ChangeMessage
    } catch {
      return
    }
    this.events.onChange(message)
    for (const key of message.k ?? []) this.waiters.wake(key)
    if (message.p !== undefined) this.waiters.wakePrefix(message.p)
  }

  /** Subscribes once, on a connection of its own; later calls share the first. */
  async listen (): Promise<void> {
    this.subscribing ??= this.subscribe()
    await this.subscribing
  }

  private async subscribe (): Promise<void> {
    const sub = this.redkit.duplicate()
    this.subscriber = sub
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text))
    // While the subscriber is down, changes from other instances go unseen.
    sub.on('close', () => {
      if (!this.listening) return
      this.listening = false
      this.events.onReset()
    })
    sub.on('ready', () => {
      // ioredis resubscribes by itself after a reconnect.
      if (this.subscriber === sub && sub.status === 'ready') this.listening = true
    })
    try {
      await sub.subscribe(this.channel)
      this.listening = true
    } catch (err) {
      this.subscribing = null
      this.subscriber = null
      sub.disconnect()
      this.log.warn({ err: (err as Error).message }, 'redkit cache: could not subscribe to cache changes; waiters fall back to polling')
      throw err
    }
  }

  coherent (): boolean { return this.listening }

  async close (): Promise<void> {
    clearInterval(this.clockTimer)
    this.listening = false
    this.waiters.wakeAll()
  }
}
