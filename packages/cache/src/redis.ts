import type { FastifyBaseLogger } from 'fastify'
import { isSlotMigrating, type Redkit, type RedkitScript, type RedisClient } from '@redkit/core'
import { defineLua } from '@redkit/core/kit'
import type { AcquireResult, Backend, BackendEvents, ChangeMessage, WriteOp } from './backend.js'
import { Collector } from './collector.js'
import { VERSION_FLOOR, type TagRef } from './keys.js'
import { SCRIPTS } from './lua.js'
import { ChangeListener } from './listener.js'
import { defineSplitScripts, splitWrite, type SplitScripts } from './split-write.js'

const CLOCK_REFRESH = 60_000
const UNLINK_BATCH = 200

/**
 * Shared storage in Redis. Reads are a plain GET (plus one GET per tag of a
 * tagged entry); writes and invalidations are Lua scripts that also publish
 * a change message on one channel per app prefix.
 */
export class RedisBackend implements Backend {
  readonly shared = true
  private readonly client: RedisClient
  private readonly channel: string
  private offset = 0
  private clockTimer: NodeJS.Timeout | undefined
  private readonly listener: ChangeListener
  private readonly collector: Collector
  private readonly scripts: {
    set: RedkitScript<number>
    release: RedkitScript<number>
    del: RedkitScript<number>
    invalidate: RedkitScript<number>
  }

  private readonly split: SplitScripts

  constructor (private readonly redkit: Redkit, private readonly log: FastifyBaseLogger, events: BackendEvents) {
    if (redkit.client === null) throw new Error('RedisBackend needs a Redis client')
    this.client = redkit.client
    this.channel = redkit.key('cache', 'changes')
    this.listener = new ChangeListener(redkit, this.channel, events)
    this.scripts = {
      set: defineLua<number>(redkit, SCRIPTS.set, { failWhileMigrating: true }),
      release: defineLua<number>(redkit, SCRIPTS.release),
      del: defineLua<number>(redkit, SCRIPTS.del),
      invalidate: defineLua<number>(redkit, SCRIPTS.invalidate)
    }
    this.split = defineSplitScripts(redkit)
    this.collector = new Collector(redkit, log)
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

  private message (message: Omit<ChangeMessage, 'i'>): string {
    return JSON.stringify({ i: this.redkit.instanceId, ...message } satisfies ChangeMessage)
  }

  // Not async: handing back ioredis' own promise keeps the hit path one hop shorter.
  get (key: string): Promise<string | null> {
    return this.client.get(key)
  }

  // One GET per tag rather than an MGET: during a slot migration a single-key
  // read is redirected, while a multi-key one may be refused.
  async versions (tags: TagRef[]): Promise<number[]> {
    const values = await Promise.all(tags.map(async (tag) => await this.client.get(tag.version)))
    return values.map((v) => v === null ? 0 : Number(v))
  }

  async set (op: WriteOp): Promise<boolean> {
    const keys = [op.key]
    for (const tag of op.tags) keys.push(tag.set, tag.version)
    if (op.token !== '') keys.push(op.lock)
    const expected = op.tags.map((_, i) => op.expected === null ? '' : String(op.expected[i]))
    const message = this.message({ k: [op.key] })
    try {
      return await this.scripts.set(keys, [op.payload, op.ttl, op.staleTtl, op.token, this.channel,
        message, op.tags.length, ...op.tags.map((tag) => tag.name), ...expected]) === 1
    } catch (err) {
      if (!isSlotMigrating(err)) throw err
      const stored = await splitWrite(this.split, op)
      if (op.token !== '') await this.scripts.release([op.lock], [op.token, this.channel, message])
      else await this.client.publish(this.channel, message)
      return stored
    }
  }

  // Sent in order on one connection: the lock is tried before the entry is read.
  async acquire (key: string, lock: string, token: string, ttl: number): Promise<AcquireResult> {
    const [locked, value] = await Promise.all([this.tryLock(lock, token, ttl), this.client.get(key)])
    return { value, locked }
  }

  async peek (key: string, lock: string): Promise<AcquireResult> {
    const [locked, value] = await Promise.all([this.client.exists(lock), this.client.get(key)])
    return { value, locked: locked === 1 }
  }

  async tryLock (lock: string, token: string, ttl: number): Promise<boolean> {
    return await this.client.set(lock, token, 'PX', ttl, 'NX') === 'OK'
  }

  async release (key: string, lock: string, token: string): Promise<void> {
    await this.scripts.release([lock], [token, this.channel, this.message({ k: [key] })])
  }

  async del (key: string): Promise<boolean> {
    return await this.scripts.del([key], [this.channel, this.message({ k: [key] })]) > 0
  }

  async invalidate (tags: TagRef[], entries: string, detached: (tag: string) => string): Promise<number> {
    const counts = await Promise.all(tags.map(async (tag) => {
      const version = await this.scripts.invalidate([tag.version], [this.channel, this.message({ p: entries, t: [tag.name] }), VERSION_FLOOR])
      // The invalidation is done; the rest only counts and frees memory, so its failure is not the caller's.
      const set = detached(tag.name)
      try {
        const count = await this.collector.detach(tag.set, set)
        if (count > 0) this.collector.add(set, tag.name, Number(version))
        return count
      } catch (err) {
        this.log.debug({ tag: tag.name, err: (err as Error).message }, 'redkit cache: could not detach an invalidated tag\'s members; they expire with their TTL')
        return await this.client.zcount(tag.set, `(${Math.floor(this.now())}`, '+inf').catch(() => 0)
      }
    }))
    return counts.reduce((a, b) => a + b, 0)
  }

  /**
   * SCANs and UNLINKs in batches (keys of one namespace share a slot). The
   * whole namespace also loses its tag sets; a prefix also removes the
   * deleted keys from every tag set. Tag versions are kept: they must never
   * fall back while a fill that read them may still write.
   */
  async clear (base: string, entries: string, prefix: string): Promise<number> {
    const glob = this.redkit.escapeGlob
    let removed = 0
    if (prefix === '') {
      for (const pattern of ['t:*', 'g:*']) await this.unlinkAll(glob(base) + pattern)
    } else {
      const members = glob(entries + prefix) + '*'
      for (const pattern of ['t:*', 'g:*']) {
        for await (const set of this.redkit.scan(glob(base) + pattern, { count: 500 })) await this.unfile(set, members)
      }
    }
    removed = await this.unlinkAll(glob(entries + prefix) + '*')
    await this.client.publish(this.channel, this.message({ p: entries + prefix }))
    return removed
  }

  private async unlinkAll (pattern: string): Promise<number> {
    let batch: string[] = []
    let removed = 0
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      const keys = batch
      batch = []
      removed += await this.client.unlink(...keys)
    }
    for await (const key of this.redkit.scan(pattern, { count: 500 })) {
      batch.push(key)
      if (batch.length >= UNLINK_BATCH) await flush()
    }
    await flush()
    return removed
  }

  /** Removes the members matching the pattern from one tag set. */
  private async unfile (set: string, pattern: string): Promise<void> {
    let cursor = '0'
    do {
      const [next, flat] = await this.client.zscan(set, cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      const members = flat.filter((_, i) => i % 2 === 0)
      if (members.length > 0) await this.client.zrem(set, ...members)
    } while (cursor !== '0')
  }

  async wait (key: string, ms: number): Promise<void> {
    await this.listener.wait(key, ms)
  }

  async listen (): Promise<void> {
    await this.listener.listen()
  }

  coherent (): boolean { return this.listener.listening }

  async close (): Promise<void> {
    clearInterval(this.clockTimer)
    this.listener.close()
    await this.collector.close()
  }
}
