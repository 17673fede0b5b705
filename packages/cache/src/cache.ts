import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { Backend, ChangeMessage } from './backend.js'
import { CacheInvalidArgumentError, CacheNotSerializableError, CacheTooLargeError } from './errors.js'
import { isNamespace, MAX_KEY_LENGTH, MAX_TAGS, MAX_TTL, type ResolvedOptions } from './options.js'

export interface SetOptions {
  /** Time to live in ms; defaults to the plugin's `ttl`. */
  ttl?: number
  /** Tags to invalidate the entry by. */
  tags?: string[]
}

export interface WrapOptions extends SetOptions {
  /** Window in ms after `ttl` during which the old value is served while one refresh runs. */
  staleTtl?: number
}

export interface InvalidateOptions {
  tags: string[]
}

export interface CachedOptions<A extends unknown[]> extends Omit<WrapOptions, 'tags'> {
  /** Builds the cache key from the arguments; defaults to `<name>:<JSON of the arguments>`. */
  key?: (...args: A) => string
  /** Key prefix for the default key; defaults to the function's name. */
  name?: string
  tags?: string[] | ((...args: A) => string[])
}

export interface NamespaceStats {
  hits: number
  misses: number
  /** hits / (hits + misses), 0 when there were no reads. */
  hitRate: number
  loaderRuns: number
  staleServes: number
  errors: number
  /** Hits answered by the in-process L1 (included in hits). */
  l1Hits: number
  /** Misses that waited for another caller's loader. */
  lockWaits: number
  /** Waits that gave up after lockWait and ran the loader themselves. */
  lockTimeouts: number
}

export interface CacheStats {
  total: NamespaceStats
  namespaces: Record<string, NamespaceStats>
}

export interface Cache {
  readonly namespace: string
  /** The fresh value, or undefined. */
  get: <T = unknown>(key: string) => Promise<T | undefined>
  set: (key: string, value: unknown, opts?: SetOptions) => Promise<void>
  /** True when an entry was deleted. */
  del: (key: string) => Promise<boolean>
  /** The cached value, or the loader's, run once across callers and instances. */
  wrap: <T>(key: string, loader: () => T | Promise<T>, opts?: WrapOptions) => Promise<T>
  /** Deletes every entry of this namespace filed under any of the tags; returns how many. */
  invalidate: (opts: InvalidateOptions) => Promise<number>
  /** Deletes every entry of this namespace whose key starts with `prefix` (taken literally); returns how many. */
  clear: (prefix?: string) => Promise<number>
  /** The same API on another namespace. */
  ns: (name: string) => Cache
  /** Counters of every namespace. */
  stats: () => CacheStats
  /** Wraps a function so its results are cached by arguments. */
  cached: <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, opts?: CachedOptions<A>) => (...args: A) => Promise<Awaited<R>>
}

/** What a namespace counts; hitRate is derived when stats are read. */
type Counters = Omit<NamespaceStats, 'hitRate'>

interface Entry {
  freshUntil: number
  payload: string
}

interface Keys {
  ns: string
  counters: Counters
  /** `<prefix>cache:{ns}:`, shared by every key of the namespace so they sit in one Cluster slot. */
  base: string
  entries: string
}

const WARN_EVERY = 10_000

function invalid (message: string): never {
  throw new CacheInvalidArgumentError(message)
}

function checkKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    invalid(`key must be a string of 1 to ${MAX_KEY_LENGTH} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`)
  }
  return key
}

function checkTtl (value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TTL) {
    invalid(`${name} must be an integer number of ms from ${min} to ${MAX_TTL}, got ${JSON.stringify(value)}`)
  }
  return value
}

function checkTags (tags: unknown): string[] {
  if (tags === undefined) return []
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) invalid(`tags must be an array of at most ${MAX_TAGS} strings`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 256) invalid(`each tag must be a string of 1 to 256 characters, got ${JSON.stringify(tag)}`)
  }
  return [...new Set(tags as string[])]
}

function parseEntry (raw: string): Entry | null {
  const colon = raw.indexOf(':')
  const freshUntil = colon > 0 ? Number(raw.slice(0, colon)) : NaN
  if (Number.isNaN(freshUntil)) return null
  return { freshUntil, payload: raw.slice(colon + 1) }
}

function emptyCounters (): Counters {
  return { hits: 0, misses: 0, loaderRuns: 0, staleServes: 0, errors: 0, l1Hits: 0, lockWaits: 0, lockTimeouts: 0 }
}

function withRate (c: Counters): NamespaceStats {
  const reads = c.hits + c.misses
  return { ...c, hitRate: reads === 0 ? 0 : c.hits / reads }
}

/** Shared state behind every namespace handle: storage, L1, in-flight loads and counters. */
export class CacheEngine {
  private readonly l1: LRUCache<string, Entry> | null
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly refreshing = new Set<string>()
  private readonly spaces = new Map<string, Keys>()
  private readonly handles = new Map<string, Cache>()
  private epoch = 0
  private lastWarn = 0

  constructor (
    readonly backend: Backend,
    readonly options: ResolvedOptions,
    private readonly appPrefix: string,
    private readonly instanceId: string,
    private readonly log: FastifyBaseLogger
  ) {
    this.l1 = options.l1 !== null && backend.shared ? new LRUCache<string, Entry>({ max: options.l1.max }) : null
  }

  get l1Enabled (): boolean { return this.l1 !== null }

  /** Called for change messages from any instance. */
  onChange (message: ChangeMessage): void {
    if (message.i === this.instanceId || this.l1 === null) return
    this.epoch++
    for (const key of message.k ?? []) this.l1.delete(key)
    if (message.p !== undefined) this.dropPrefix(message.p)
  }

  onReset (): void {
    this.epoch++
    this.l1?.clear()
  }

  private dropPrefix (prefix: string): void {
    if (this.l1 === null) return
    for (const key of [...this.l1.keys()]) if (key.startsWith(prefix)) this.l1.delete(key)
  }

  keys (ns: string): Keys {
    let keys = this.spaces.get(ns)
    if (keys === undefined) {
      if (!isNamespace(ns)) invalid(`namespace must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(ns)}`)
      const base = `${this.appPrefix}cache:{${ns}}:`
      keys = { ns, counters: emptyCounters(), base, entries: base + 'e:' }
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
    const total = emptyCounters()
    const namespaces: Record<string, NamespaceStats> = {}
    for (const [ns, { counters }] of this.spaces) {
      namespaces[ns] = withRate(counters)
      for (const name of Object.keys(total) as Array<keyof Counters>) total[name] += counters[name]
    }
    return { total: withRate(total), namespaces }
  }

  /** Counts a storage error; rethrows unless failing open. */
  private failed (c: Counters, err: unknown, op: string, key: string): void {
    c.errors++
    if (!this.options.failOpen) throw err
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

  private decode (k: Keys, entry: Entry, key: string): { value: unknown } | null {
    try {
      return { value: this.options.serializer.deserialize(entry.payload) }
    } catch (err) {
      k.counters.errors++
      this.log.warn({ key, err: (err as Error).message }, 'redkit cache: stored value could not be read; treating it as a miss')
      return null
    }
  }

  private l1Get (full: string): Entry | undefined {
    if (this.l1 === null || !this.backend.coherent()) return undefined
    const entry = this.l1.get(full)
    if (entry === undefined) return undefined
    if (entry.freshUntil > this.backend.now()) return entry
    this.l1.delete(full)
    return undefined
  }

  /** Skipped when any change arrived since the read started: the value may predate it. */
  private l1Put (full: string, entry: Entry, epoch: number): void {
    if (this.l1 === null || epoch !== this.epoch || !this.backend.coherent()) return
    const ttl = Math.min(this.options.l1!.ttl, entry.freshUntil - this.backend.now())
    if (ttl >= 1) this.l1.set(full, entry, { ttl: Math.floor(ttl) })
  }

  private forget (full: string): void {
    this.epoch++
    this.l1?.delete(full)
  }

  async get (k: Keys, key: string): Promise<unknown> {
    checkKey(key)
    const c = k.counters
    const full = k.entries + key
    const cached = this.l1Get(full)
    if (cached !== undefined) {
      const hit = this.decode(k, cached, key)
      if (hit !== null) {
        c.hits++
        c.l1Hits++
        return hit.value
      }
    }
    const epoch = this.epoch
    let raw: string | null
    try {
      raw = await this.backend.get(full)
    } catch (err) {
      this.failed(c, err, 'get', key)
      c.misses++
      return undefined
    }
    const entry = raw === null ? null : parseEntry(raw)
    if (entry === null || entry.freshUntil <= this.backend.now()) {
      c.misses++
      return undefined
    }
    const hit = this.decode(k, entry, key)
    if (hit === null) {
      c.misses++
      return undefined
    }
    c.hits++
    this.l1Put(full, entry, epoch)
    return hit.value
  }

  /** `token` is the fill lock this writer holds (see claim), released by the same write. */
  async set (k: Keys, key: string, value: unknown, opts: SetOptions = {}, token = ''): Promise<void> {
    checkKey(key)
    const ttl = checkTtl(opts.ttl, 'ttl', this.options.ttl, 1)
    const tags = checkTags(opts.tags)
    const payload = this.encode(key, value)
    await this.write(k, key, payload, ttl, 0, tags, token)
  }

  /**
   * Request collapsing for cached routes, after a miss: the value another
   * request stored meanwhile, or the fill lock's token when this request is
   * the one to produce the response (it stores it with set(…, token), or calls
   * unclaim), or token '' to run without the lock. Waiting requests only watch
   * the lock, never take it: when it is freed without a stored response (an
   * error, a cookie) they all run at once rather than queueing one by one.
   */
  async claim (k: Keys, key: string): Promise<{ value: unknown } | { token: string }> {
    const c = k.counters
    const full = k.entries + key
    const lock = k.base + 'l:' + key
    const token = randomUUID()
    try {
      const first = await this.backend.acquire(full, lock, token, this.options.lockTtl)
      const stored = this.entryOf(k, key, first.value)
      if (stored !== null) return stored
      if (first.locked) return { token }
      c.lockWaits++
      const deadline = Date.now() + this.options.lockWait
      for (;;) {
        const left = deadline - Date.now()
        if (left <= 0) {
          c.lockTimeouts++
          return { token: '' }
        }
        await this.backend.wait(full, Math.min(this.options.pollInterval, left))
        const now = await this.backend.peek(full, lock)
        const filled = this.entryOf(k, key, now.value)
        if (filled !== null) return filled
        if (!now.locked) return { token: '' }
      }
    } catch (err) {
      this.failed(c, err, 'acquire', key)
      return { token: '' }
    }
  }

  private entryOf (k: Keys, key: string, raw: string | null): { value: unknown } | null {
    const entry = raw === null ? null : parseEntry(raw)
    return entry === null ? null : this.decode(k, entry, key)
  }

  /** Gives up a claimed fill lock without storing, waking whoever waits; never throws. */
  async unclaim (k: Keys, key: string, token: string): Promise<void> {
    if (token === '') return
    try {
      await this.backend.release(k.entries + key, k.base + 'l:' + key, token)
    } catch (err) {
      k.counters.errors++
      this.log.warn({ key, namespace: k.ns, err: (err as Error).message }, 'redkit cache: could not release a fill lock; it expires with its TTL')
    }
  }

  private async write (k: Keys, key: string, payload: string, ttl: number, staleTtl: number, tags: string[], token: string): Promise<void> {
    const full = k.entries + key
    this.forget(full)
    try {
      await this.backend.set({
        key: full, lock: k.base + 'l:' + key, token, payload, ttl, staleTtl, tags: tags.map((tag) => k.base + 't:' + tag)
      })
    } catch (err) {
      this.failed(k.counters, err, 'set', key)
    }
  }

  async del (k: Keys, key: string): Promise<boolean> {
    checkKey(key)
    const full = k.entries + key
    this.forget(full)
    try {
      return await this.backend.del([full]) > 0
    } catch (err) {
      this.failed(k.counters, err, 'del', key)
      return false
    }
  }

  async invalidate (k: Keys, opts: InvalidateOptions): Promise<number> {
    if (typeof opts !== 'object' || opts === null) invalid('invalidate() takes { tags: [...] }')
    const tags = checkTags(opts.tags)
    if (tags.length === 0) return 0
    this.epoch++
    try {
      const { deleted, keys } = await this.backend.invalidate(tags.map((tag) => k.base + 't:' + tag), k.entries)
      if (keys === null) this.dropPrefix(k.entries)
      else for (const key of keys) this.l1?.delete(key)
      return deleted
    } catch (err) {
      this.failed(k.counters, err, 'invalidate', tags.join(','))
      return 0
    }
  }

  async clear (k: Keys, prefix: string = ''): Promise<number> {
    if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH) invalid(`clear() takes a key prefix string of at most ${MAX_KEY_LENGTH} characters`)
    const full = k.entries + prefix
    this.epoch++
    this.dropPrefix(full)
    try {
      return await this.backend.clear(full)
    } catch (err) {
      this.failed(k.counters, err, 'clear', prefix)
      return 0
    }
  }

  async wrap<T> (k: Keys, key: string, loader: () => T | Promise<T>, opts: WrapOptions = {}): Promise<T> {
    checkKey(key)
    if (typeof loader !== 'function') invalid('wrap() needs a loader function')
    const ttl = checkTtl(opts.ttl, 'ttl', this.options.ttl, 1)
    const staleTtl = checkTtl(opts.staleTtl, 'staleTtl', this.options.staleTtl, 0)
    const tags = checkTags(opts.tags)
    const full = k.entries + key
    const cached = this.l1Get(full)
    if (cached !== undefined) {
      const hit = this.decode(k, cached, key)
      if (hit !== null) {
        k.counters.hits++
        k.counters.l1Hits++
        return hit.value as T
      }
    }
    const pending = this.inflight.get(full)
    if (pending !== undefined) return await (pending as Promise<T>)
    const load = { loader, ttl, staleTtl, tags }
    const promise = this.resolve(k, key, load)
    this.inflight.set(full, promise)
    const done = (): void => { this.inflight.delete(full) }
    promise.then(done, done)
    return await promise
  }

  private async resolve<T> (k: Keys, key: string, load: Load<T>): Promise<T> {
    const c = k.counters
    const full = k.entries + key
    const epoch = this.epoch
    let raw: string | null
    try {
      raw = await this.backend.get(full)
    } catch (err) {
      this.failed(c, err, 'get', key)
      c.misses++
      c.loaderRuns++
      return await load.loader()
    }
    const entry = raw === null ? null : parseEntry(raw)
    const hit = entry === null ? null : this.decode(k, entry, key)
    if (entry !== null && hit !== null) {
      c.hits++
      if (entry.freshUntil > this.backend.now()) {
        this.l1Put(full, entry, epoch)
      } else {
        // Still stored, so inside its stale window.
        c.staleServes++
        this.refresh(k, key, load)
      }
      return hit.value as T
    }
    c.misses++
    return await this.fill(k, key, load)
  }

  /** Runs the loader under the fill lock, or waits for whoever holds it. */
  private async fill<T> (k: Keys, key: string, load: Load<T>): Promise<T> {
    const c = k.counters
    const full = k.entries + key
    const lock = k.base + 'l:' + key
    const token = randomUUID()
    const deadline = Date.now() + this.options.lockWait
    let waited = false
    for (;;) {
      let result
      try {
        result = await this.backend.acquire(full, lock, token, this.options.lockTtl)
      } catch (err) {
        this.failed(c, err, 'acquire', key)
        c.loaderRuns++
        return await load.loader()
      }
      const hit = this.entryOf(k, key, result.value)
      if (hit !== null) return hit.value as T
      if (result.locked) return await this.loadAndStore(k, key, load, token)
      const left = deadline - Date.now()
      if (left <= 0) {
        c.lockTimeouts++
        this.log.warn({ key, namespace: k.ns, waitedMs: this.options.lockWait },
          'redkit cache: gave up waiting for another instance to fill the key; running the loader here')
        return await this.loadAndStore(k, key, load, '')
      }
      if (!waited) {
        waited = true
        c.lockWaits++
      }
      await this.backend.wait(full, Math.min(this.options.pollInterval, left))
    }
  }

  private async loadAndStore<T> (k: Keys, key: string, load: Load<T>, token: string): Promise<T> {
    const release = async (): Promise<void> => {
      if (token === '') return
      try {
        await this.backend.release(k.entries + key, k.base + 'l:' + key, token)
      } catch (err) {
        this.failed(k.counters, err, 'release', key)
      }
    }
    let value: T
    let payload: string
    try {
      k.counters.loaderRuns++
      value = await load.loader()
      payload = this.encode(key, value)
    } catch (err) {
      await release()
      throw err
    }
    await this.write(k, key, payload, load.ttl, load.staleTtl, load.tags, token)
    return value
  }

  /** Refreshes a stale entry in the background, once per process and, through the lock, once across instances. */
  private refresh<T> (k: Keys, key: string, load: Load<T>): void {
    const full = k.entries + key
    if (this.refreshing.has(full)) return
    this.refreshing.add(full)
    const run = async (): Promise<void> => {
      const token = randomUUID()
      if (!await this.backend.tryLock(k.base + 'l:' + key, token, this.options.lockTtl)) return
      await this.loadAndStore(k, key, load, token)
    }
    run().catch((err: unknown) => {
      k.counters.errors++
      this.log.warn({ key, namespace: k.ns, err: (err as Error).message }, 'redkit cache: background refresh failed; the stale value stays until it expires')
    }).finally(() => this.refreshing.delete(full))
  }

  async close (): Promise<void> {
    this.l1?.clear()
    await this.backend.close()
  }
}

interface Load<T> {
  loader: () => T | Promise<T>
  ttl: number
  staleTtl: number
  tags: string[]
}

/** The public API, bound to one namespace. */
class Namespace implements Cache {
  readonly namespace: string

  constructor (private readonly engine: CacheEngine, private readonly k: Keys) {
    this.namespace = k.ns
  }

  // Returns the engine's promise as is: one less await on the hit path.
  get<T = unknown> (key: string): Promise<T | undefined> {
    return this.engine.get(this.k, key) as Promise<T | undefined>
  }

  async set (key: string, value: unknown, opts?: SetOptions): Promise<void> {
    await this.engine.set(this.k, key, value, opts)
  }

  async del (key: string): Promise<boolean> {
    return await this.engine.del(this.k, key)
  }

  async wrap<T> (key: string, loader: () => T | Promise<T>, opts?: WrapOptions): Promise<T> {
    return await this.engine.wrap(this.k, key, loader, opts)
  }

  async invalidate (opts: InvalidateOptions): Promise<number> {
    return await this.engine.invalidate(this.k, opts)
  }

  async clear (prefix?: string): Promise<number> {
    return await this.engine.clear(this.k, prefix)
  }

  ns (name: string): Cache {
    return this.engine.handle(name)
  }

  stats (): CacheStats {
    return this.engine.stats()
  }

  cached<A extends unknown[], R> (fn: (...args: A) => R | Promise<R>, opts: CachedOptions<A> = {}): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') invalid('cached() needs a function')
    const name = opts.name ?? fn.name
    if (opts.key === undefined && name === '') invalid('cached() needs opts.key or opts.name for an anonymous function')
    const keyOf = opts.key ?? ((...args: A) => `${name}:${JSON.stringify(args)}`)
    const { tags, ttl, staleTtl } = opts
    checkTtl(ttl, 'ttl', 0, 1)
    checkTtl(staleTtl, 'staleTtl', 0, 0)
    const wrap = this.wrap.bind(this)
    return async function (this: unknown, ...args: A): Promise<Awaited<R>> {
      const key = keyOf(...args)
      const tagList = typeof tags === 'function' ? tags(...args) : tags
      return await wrap(key, async () => await fn.apply(this, args), {
        ...(ttl !== undefined ? { ttl } : {}),
        ...(staleTtl !== undefined ? { staleTtl } : {}),
        ...(tagList !== undefined ? { tags: tagList } : {})
      })
    }
  }
}
