import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { checkKey, checkPrefix, checkTags, checkTtl, invalid } from './args.js'
import type { Backend, ChangeMessage } from './backend.js'
import { Namespace, type Cache, type InvalidateOptions, type SetOptions, type WrapOptions } from './cache.js'
import { parseEntry, stampCurrent, type Entry } from './entry.js'
import { CacheNotSerializableError, CacheTooLargeError } from './errors.js'
import { Fills, type Load } from './fill.js'
import { NamespaceKeys, type TagRef } from './keys.js'
import { L1 } from './l1.js'
import type { ResolvedOptions } from './options.js'
import { count, summary, type CacheStats, type Counters, type Outcome } from './stats.js'

const WARN_EVERY = 10_000

/** A readable entry and its decoded value. */
export interface Found {
  entry: Entry
  value: unknown
}

interface Resolved<T> {
  value: T
  outcome: Outcome
}

/** Shared state behind every namespace handle: storage, L1, in-flight loads and counters. */
export class CacheEngine {
  readonly l1: L1 | null
  readonly fills: Fills
  private readonly inflight = new Map<string, Promise<Resolved<unknown>>>()
  private readonly spaces = new Map<string, NamespaceKeys>()
  private readonly handles = new Map<string, Cache>()
  private lastWarn = 0

  constructor (
    readonly backend: Backend,
    readonly options: ResolvedOptions,
    private readonly appPrefix: string,
    private readonly instanceId: string,
    readonly log: FastifyBaseLogger
  ) {
    this.l1 = options.l1 !== null && backend.shared ? new L1(options.l1.max, options.l1.ttl) : null
    this.fills = new Fills(this)
  }

  get l1Enabled (): boolean { return this.l1 !== null }

  /** Called for change messages from any instance. */
  onChange (message: ChangeMessage): void {
    if (message.i === this.instanceId || this.l1 === null) return
    this.l1.bump()
    for (const key of message.k ?? []) this.l1.drop(key)
    if (message.p === undefined) return
    if (message.t !== undefined) this.l1.dropTagged(message.p, message.t)
    else this.l1.dropPrefix(message.p)
  }

  onReset (): void {
    this.l1?.clear()
  }

  keys (ns: string): NamespaceKeys {
    let keys = this.spaces.get(ns)
    if (keys === undefined) {
      keys = new NamespaceKeys(ns, this.appPrefix)
      this.spaces.set(ns, keys)
    }
    return keys
  }

  handle (ns: string): Cache {
    let handle = this.handles.get(ns)
    if (handle === undefined) {
      handle = new Namespace(this, this.keys(ns))
      this.handles.set(ns, handle)
    }
    return handle
  }

  stats (): CacheStats {
    return summary(this.spaces.values())
  }

  /** Counts a storage error; rethrows unless failing open. */
  failed (c: Counters, err: unknown, op: string, key: string): void {
    c.errors++
    if (this.options.onRedisError === 'closed') throw err
    const now = Date.now()
    if (now - this.lastWarn >= WARN_EVERY) {
      this.lastWarn = now
      this.log.warn({ op, key, err: (err as Error).message, code: (err as { code?: string }).code },
        'redkit cache: storage error; serving as a miss (further errors within 10 s are only counted)')
    }
  }

  encode (key: string, value: unknown): string {
    let text: unknown
    try {
      text = this.options.serializer.serialize(value)
    } catch (err) {
      throw new CacheNotSerializableError(key, (err as Error).message)
    }
    if (typeof text !== 'string') throw new CacheNotSerializableError(key, 'the serializer did not return a string')
    const max = this.options.maxSize
    if (text.length * 3 > max) {
      const bytes = Buffer.byteLength(text)
      if (bytes > max) throw new CacheTooLargeError(key, bytes, max)
    }
    return text
  }

  private decode (k: NamespaceKeys, entry: Entry, key: string): Found | null {
    try {
      return { entry, value: this.options.serializer.deserialize(entry.payload) }
    } catch (err) {
      k.counters.errors++
      this.log.warn({ key, err: (err as Error).message }, 'redkit cache: stored value could not be read; treating it as a miss')
      return null
    }
  }

  /** The current versions of the tags, read before a value is produced; null when they could not be read. */
  async snapshot (k: NamespaceKeys, tags: TagRef[]): Promise<number[] | null> {
    if (tags.length === 0) return []
    try {
      return await this.backend.versions(tags)
    } catch (err) {
      this.failed(k.counters, err, 'versions', tags.map((tag) => tag.name).join(','))
      return null
    }
  }

  /**
   * The stored entry if it is readable and none of its tags was invalidated
   * since it was written. `known`: versions already read for some tags, used
   * when they are exactly the entry's tags.
   */
  async validated (k: NamespaceKeys, key: string, raw: string | null, known?: { tags: TagRef[], versions: number[] }): Promise<Found | null> {
    const entry = raw === null ? null : parseEntry(raw)
    if (entry === null) return null
    if (entry.stamp !== null) {
      const names = Object.keys(entry.stamp)
      const same = known !== undefined && known.tags.length === names.length && known.tags.every((tag) => Object.hasOwn(entry.stamp!, tag.name))
      const versions = same
        ? names.map((name) => known.versions[known.tags.findIndex((tag) => tag.name === name)]!)
        : await this.backend.versions(names.map((name) => k.tag(name)))
      if (!stampCurrent(entry.stamp, names, versions)) return null
    }
    return this.decode(k, entry, key)
  }

  private l1Get (k: NamespaceKeys, full: string, key: string): Found | null {
    if (this.l1 === null || !this.backend.coherent()) return null
    const entry = this.l1.get(full, this.backend.now())
    if (entry === undefined) return null
    const found = this.decode(k, entry, key)
    if (found === null) return null
    k.counters.hits++
    k.counters.l1Hits++
    return found
  }

  l1Put (full: string, entry: Entry, epoch: number): void {
    if (this.l1 !== null && this.backend.coherent()) this.l1.put(full, entry, epoch, this.backend.now())
  }

  get epoch (): number { return this.l1?.epoch ?? 0 }

  async get (k: NamespaceKeys, key: string): Promise<unknown> {
    checkKey(key)
    const c = k.counters
    const full = k.entry(key)
    const cached = this.l1Get(k, full, key)
    if (cached !== null) return cached.value
    const epoch = this.epoch
    let found: Found | null
    try {
      found = await this.validated(k, key, await this.backend.get(full))
    } catch (err) {
      this.failed(c, err, 'get', key)
      found = null
    }
    if (found === null || found.entry.freshUntil <= this.backend.now()) {
      c.misses++
      return undefined
    }
    c.hits++
    this.l1Put(full, found.entry, epoch)
    return found.value
  }

  /** `token` is the fill lock this writer holds, released by the same write; `expected`, the tag versions read before the value was made. */
  async set (k: NamespaceKeys, key: string, value: unknown, opts: SetOptions = {}, token = '', expected: number[] | null = null): Promise<void> {
    checkKey(key)
    const ttl = checkTtl(opts.ttl, 'ttl', this.options.ttl, 1)
    const tags = checkTags(opts.tags)
    const payload = this.encode(key, value)
    await this.write(k, key, { payload, ttl, staleTtl: 0, tags: tags.map((tag) => k.tag(tag)), token, expected })
  }

  async write (k: NamespaceKeys, key: string, op: { payload: string, ttl: number, staleTtl: number, tags: TagRef[], token: string, expected: number[] | null }): Promise<void> {
    const full = k.entry(key)
    this.l1?.drop(full)
    try {
      await this.backend.set({ key: full, lock: k.lock(key), ...op })
    } catch (err) {
      this.failed(k.counters, err, 'set', key)
      // The write would have released the fill lock: without this, callers
      // waiting on the key wait out lockWait for a value that is not coming.
      if (op.token !== '') await this.backend.release(full, k.lock(key), op.token).catch(() => {})
    }
  }

  async del (k: NamespaceKeys, key: string): Promise<boolean> {
    checkKey(key)
    const full = k.entry(key)
    this.l1?.drop(full)
    try {
      return await this.backend.del(full)
    } catch (err) {
      this.failed(k.counters, err, 'del', key)
      return false
    }
  }

  async invalidate (k: NamespaceKeys, opts: InvalidateOptions): Promise<number> {
    if (typeof opts !== 'object' || opts === null) invalid('invalidate() takes { tags: [...] }')
    const tags = checkTags(opts.tags)
    if (tags.length === 0) return 0
    this.l1?.dropTagged(k.entries, tags)
    try {
      return await this.backend.invalidate(tags.map((tag) => k.tag(tag)), k.entries, (tag) => k.detached(randomUUID(), tag))
    } catch (err) {
      this.failed(k.counters, err, 'invalidate', tags.join(','))
      return 0
    } finally {
      // Copies read while the invalidation ran may predate it.
      this.l1?.dropTagged(k.entries, tags)
    }
  }

  async clear (k: NamespaceKeys, prefix: string = ''): Promise<number> {
    checkPrefix(prefix)
    this.l1?.dropPrefix(k.entries + prefix)
    try {
      return await this.backend.clear(k.base, k.entries, prefix)
    } catch (err) {
      this.failed(k.counters, err, 'clear', prefix)
      return 0
    }
  }

  async wrap<T> (k: NamespaceKeys, key: string, loader: () => T | Promise<T>, opts: WrapOptions = {}): Promise<T> {
    checkKey(key)
    if (typeof loader !== 'function') invalid('wrap() needs a loader function')
    const ttl = checkTtl(opts.ttl, 'ttl', this.options.ttl, 1)
    const staleTtl = checkTtl(opts.staleTtl, 'staleTtl', this.options.staleTtl, 0)
    const tags = checkTags(opts.tags).map((tag) => k.tag(tag))
    const full = k.entry(key)
    const cached = this.l1Get(k, full, key)
    if (cached !== null) return cached.value as T
    let pending = this.inflight.get(full)
    if (pending === undefined) {
      pending = this.resolve(k, key, { loader, ttl, staleTtl, tags })
      this.inflight.set(full, pending)
      const done = (): void => { this.inflight.delete(full) }
      pending.then(done, done)
    }
    // Every caller is counted, including those that joined another's load.
    try {
      const { value, outcome } = await pending
      count(k.counters, outcome)
      return value as T
    } catch (err) {
      count(k.counters, 'miss')
      throw err
    }
  }

  private async resolve<T> (k: NamespaceKeys, key: string, load: Load<T>): Promise<Resolved<T>> {
    const full = k.entry(key)
    const epoch = this.epoch
    let found: Found | null
    try {
      // The caller names the tags, so their versions are read with the entry rather than after it.
      const [raw, versions] = await Promise.all([this.backend.get(full), load.tags.length > 0 ? this.backend.versions(load.tags) : []])
      found = await this.validated(k, key, raw, { tags: load.tags, versions })
    } catch (err) {
      this.failed(k.counters, err, 'get', key)
      k.counters.loaderRuns++
      return { value: await load.loader(), outcome: 'miss' }
    }
    if (found === null) return { value: await this.fills.fill(k, key, load), outcome: 'miss' }
    if (found.entry.freshUntil > this.backend.now()) {
      this.l1Put(full, found.entry, epoch)
      return { value: found.value as T, outcome: 'hit' }
    }
    // Still stored, so inside its stale window.
    this.fills.refresh(k, key, load)
    return { value: found.value as T, outcome: 'stale' }
  }

  async close (): Promise<void> {
    this.l1?.clear()
    await this.backend.close()
  }
}
