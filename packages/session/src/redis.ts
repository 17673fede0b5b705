import type { Redkit, RedkitScript, RedisClient } from '@redkit/core'
import { defineLua, TurnQueue } from '@redkit/core/kit'
import {
  META_FIELD, parseMeta, SESSION_ID, type IdPage, type IndexCleanupReport, type IndexEntry, type LoadedRaw, type SavePlan,
  type SessionBackend, type SessionCounts, type StoredMeta
} from './backend.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { SessionInvalidCursorError } from './errors.js'
import { SCRIPTS } from './lua.js'
import type { ResolvedStoreOptions } from './options.js'
import { batchable, MODES, SaveBatch } from './save-batch.js'
import { SessionKeys } from './keys.js'

const CLEAR_BATCH = 100
/** Queued session commands sent at once at most; the rest follow in the same flush. */
const SEND_BATCH = 256
const INDEX_SCAN_COUNT = 100
const REPAIR_CHUNK = 100

function isUnknownCommand (err: unknown): boolean {
  return /unknown command/i.test((err as Error | null)?.message ?? '')
}

/** Sessions on Redis; keys.ts has the key layout. */
export class RedisBackend implements SessionBackend {
  private readonly client: RedisClient
  private readonly saveScript: RedkitScript<number>
  private readonly saveBatchScript: RedkitScript<Array<number | string>>
  private readonly touchScript: RedkitScript<number>
  private readonly indexScript: RedkitScript<number>
  private readonly registerScript: RedkitScript<number>
  private readonly destroyScript: RedkitScript<string | null>
  private readonly countScript: RedkitScript<[number, number]>
  private readonly pageScript: RedkitScript<string[]>
  private readonly userListScript: RedkitScript<string[]>
  private readonly takeScript: RedkitScript<string | null>
  private readonly metaScript: RedkitScript<[string, number] | null>
  private readonly keys: SessionKeys
  readonly registry: string
  readonly usersRegistry: string
  /** On a single server, one script updates the session, its user index and the registries at once. */
  private readonly inline: boolean
  private readonly loading = new Map<string, Promise<LoadedRaw>>()
  private hasGetdel = true
  /**
   * Commands of the request path (load, save, touch, destroy) wait here until
   * the event loop has run every callback of its current I/O phase, then
   * leave together. Requests that arrive together (one readiness wake-up of
   * many sockets) handle each of their socket reads in a turn of their own,
   * and each turn used to end in a socket write to Redis of its one command;
   * now they share a write, and Redis reads and answers them in one go. The
   * queue keeps issue order, and every other command of this backend sends
   * what is queued first, so Redis sees the store's commands in the order
   * they were issued.
   */
  private readonly queue = new TurnQueue<() => void>((sends) => {
    this.batch = undefined
    for (const send of sends) send()
  })

  /** The batch of saves in the queue that later saves join (single server). */
  private batch: SaveBatch | undefined

  constructor (private readonly redkit: Redkit, private readonly options: ResolvedStoreOptions) {
    if (redkit.client === null) throw new Error('RedisBackend needs a Redis client')
    this.client = redkit.client
    this.keys = new SessionKeys(redkit)
    this.registry = this.keys.registry
    this.usersRegistry = this.keys.usersRegistry
    this.inline = !redkit.isCluster
    this.saveScript = defineLua(redkit, SCRIPTS.save)
    this.saveBatchScript = defineLua(redkit, SCRIPTS.saveBatch)
    this.touchScript = defineLua(redkit, SCRIPTS.touch)
    this.indexScript = defineLua(redkit, SCRIPTS.index)
    this.registerScript = defineLua(redkit, SCRIPTS.register)
    this.destroyScript = defineLua(redkit, SCRIPTS.destroy)
    this.countScript = defineLua(redkit, SCRIPTS.count)
    this.pageScript = defineLua(redkit, SCRIPTS.page)
    this.userListScript = defineLua(redkit, SCRIPTS.userList)
    this.takeScript = defineLua(redkit, SCRIPTS.take)
    this.metaScript = defineLua(redkit, SCRIPTS.meta)
  }

  private push (send: () => void): void {
    // Sent before this one joins, so a batch opened by this push is never sent before its first save is added.
    if (this.queue.length >= SEND_BATCH) this.queue.flush()
    this.queue.push(send)
  }

  /** Sends `send()`, a command of session `id`, with the commands queued in this turn of the event loop, in order. */
  private enqueue<T> (id: string, send: () => Promise<T>): Promise<T> {
    this.batch?.after.add(id)
    return new Promise<T>((resolve, reject) => {
      this.push(() => { send().then(resolve, reject) })
    })
  }

  /**
   * Queues a save into the open batch, or opens one at this point of
   * the queue: the saves of one turn then cost Redis one script call and one
   * ZADD per registry instead of one of each per session.
   */
  private async saveBatched (plan: SavePlan): Promise<boolean> {
    let batch = this.batch
    if (batch === undefined || !batch.accepts(plan.id, plan.set)) {
      const opened = new SaveBatch(this.registry, this.usersRegistry, this.saveBatchScript)
      this.push(() => { opened.send() })
      this.batch = batch = opened
    }
    const user = plan.user === undefined ? undefined : this.keys.user(plan.user)
    const gone = plan.mode === 'new' ? this.keys.gone(plan.id) : undefined
    return await batch.add(plan, this.keys.session(plan.id), gone, user)
  }

  /** Sends what is queued now, before a command that bypasses the queue. */
  private flush (): void {
    this.queue.flush()
  }

  /**
   * Concurrent loads of one session (a page firing several API calls at
   * once) share one read. A load that joins a read still in flight misses
   * only writes sent after that read; Redis answers in order, so none of
   * them has completed yet, and they are concurrent with the load. The
   * entry goes as soon as the read's reply is in. Callers decode the shared
   * reply into objects of their own and never change it.
   */
  async load (id: string): Promise<LoadedRaw | null> {
    let reply = this.loading.get(id)
    if (reply === undefined) {
      const key = this.keys.session(id)
      const sent = this.enqueue(id, () => this.client.hgetall(key))
      // Registered first, so it runs before anything waiting on a later reply.
      const forget = (): void => { if (this.loading.get(id) === sent) this.loading.delete(id) }
      sent.then(forget, forget)
      this.loading.set(id, sent)
      reply = sent
    }
    const stored = await reply
    // A live session always has its meta field, so an empty reply means none.
    return Object.keys(stored).length === 0 ? null : stored
  }

  async save (plan: SavePlan): Promise<boolean> {
    if (this.inline && batchable(plan)) return await this.saveBatched(plan)
    const { id, user, previousUser } = plan
    const moved = previousUser !== undefined && previousUser !== user ? previousUser : undefined
    const keys = [this.keys.session(id), this.keys.gone(id)]
    const args: Array<string | number> = [MODES[plan.mode], plan.ttlMs, plan.set.length / 2, plan.del.length, id]
    if (this.inline) {
      keys.push(this.registry, this.usersRegistry)
      if (user !== undefined) keys.push(this.keys.user(user))
      if (moved !== undefined) keys.push(this.keys.user(moved))
    }
    args.push(user ?? '', moved ?? '')
    for (const item of plan.set) args.push(item)
    for (const item of plan.del) args.push(item)
    const saved = await this.enqueue(id, () => this.saveScript(keys, args)) === 1
    if (saved && !this.inline) await this.registerApart(id, plan.ttlMs, user, moved)
    return saved
  }

  /**
   * Cluster: the user indexes and the registries live in other slots than
   * the session, so they follow the session's script. A failure in between
   * leaves entries that expire with their score or that cleanup() drops.
   */
  private async registerApart (id: string, ttl: number, user: string | undefined, moved: string | undefined): Promise<void> {
    this.flush()
    const args: Array<string | number> = [id, ttl]
    if (moved !== undefined) args.push(moved, await this.indexScript([this.keys.user(moved)], [0, id, moved]))
    if (user !== undefined) args.push(user, await this.indexScript([this.keys.user(user)], [ttl, id, user]))
    await this.registerScript([this.registry, this.usersRegistry], args)
  }

  async touch (id: string, ttlMs: number, user: string | undefined): Promise<boolean> {
    if (this.inline) {
      const keys = [this.keys.session(id), this.registry, this.usersRegistry]
      if (user !== undefined) keys.push(this.keys.user(user))
      return await this.enqueue(id, () => this.touchScript(keys, [ttlMs, id, user ?? ''])) === 1
    }
    const key = this.keys.session(id)
    const touched = await this.enqueue(id, () => this.touchScript([key], [ttlMs, id, ''])) === 1
    if (touched) await this.registerApart(id, ttlMs, user, undefined)
    return touched
  }

  async destroy (id: string, tombstone: boolean): Promise<void> {
    const keys = [this.keys.session(id), this.keys.gone(id)]
    if (this.inline) keys.push(this.registry)
    const meta = await this.enqueue(id, () => this.destroyScript(keys, [tombstone ? this.options.tombstoneTtlMs : 0, id]))
    const user = parseMeta(meta)?.u
    if (this.inline) {
      this.flush()
      if (user !== undefined) await this.indexScript([this.keys.user(user), this.usersRegistry], [0, id, user])
      return
    }
    await this.registerApart(id, 0, undefined, user)
  }

  async * ids (): AsyncIterable<string> {
    this.flush()
    for await (const key of this.redkit.scan(this.keys.sessionPattern, { type: 'hash' })) {
      yield this.keys.idOf(key)
    }
  }

  async clear (): Promise<void> {
    this.flush()
    for (const pattern of [this.keys.sessionPattern, this.keys.userPattern]) {
      let batch: string[] = []
      for await (const key of this.redkit.scan(pattern)) {
        batch.push(key)
        if (batch.length >= CLEAR_BATCH) {
          await this.unlink(batch)
          batch = []
        }
      }
      await this.unlink(batch)
    }
    await this.unlink([this.registry, this.usersRegistry])
  }

  private async unlink (keys: string[]): Promise<void> {
    // Keys of different slots cannot share one command on Cluster.
    await Promise.all(keys.map(async (key) => await this.client.unlink(key)))
  }

  async listUser (user: string): Promise<IndexEntry[]> {
    this.flush()
    const index = this.keys.user(user)
    const flat = await this.userListScript([index])
    const entries: Array<{ id: string, expires: number }> = []
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i]!, expires: Number(flat[i + 1]) })
    const metas = await Promise.all(entries.map(async (e) => await this.client.hget(this.keys.session(e.id), META_FIELD)))
    const out: IndexEntry[] = []
    const dead: string[] = []
    entries.forEach((entry, i) => {
      const meta = metas[i]
      if (meta === null || meta === undefined) dead.push(entry.id)
      else out.push({ ...entry, meta })
    })
    if (dead.length > 0) await this.client.zrem(index, ...dead)
    return out
  }

  async meta (id: string): Promise<StoredMeta | null> {
    this.flush()
    const found = await this.metaScript([this.keys.session(id)])
    return found === null ? null : { id, meta: found[0], expiresAt: Number(found[1]) }
  }

  /**
   * A page of the registry in (expiry, id) order, resuming after the
   * cursor's entry: one bounded script call whatever the number of
   * sessions, and a cursor of one expiry and one id.
   */
  async page (cursorText: string | undefined, limit: number): Promise<IdPage> {
    this.flush()
    const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText)
    if (cursor !== undefined && cursor.kind !== 'redis') throw new SessionInvalidCursorError()
    const flat = await this.pageScript([this.registry], [cursor?.score ?? '', cursor?.id ?? '', limit])
    const ids: string[] = []
    for (let i = 0; i < flat.length; i += 2) if (SESSION_ID.test(flat[i]!)) ids.push(flat[i]!)
    const last = flat.length >= 2 ? { id: flat[flat.length - 2]!, score: Number(flat[flat.length - 1]) } : undefined
    // A short page means the end of the registry.
    if (last === undefined || flat.length / 2 < limit) return { ids, cursor: null }
    return { ids, cursor: encodeCursor({ kind: 'redis', score: last.score, id: last.id }) }
  }

  /** Two ZCARD/ZCOUNT pairs in one script: the same work at a thousand sessions or a million. */
  async count (): Promise<SessionCounts> {
    this.flush()
    const [sessions, users] = await this.countScript([this.registry, this.usersRegistry])
    return { sessions: Number(sessions), users: Number(users) }
  }

  /**
   * Walks every user index with ZSCAN (bounded replies, whatever its size)
   * and drops entries whose session is gone or now names another user, as
   * after an eviction or a failed second write on Cluster; then brings the
   * registries in line with the sessions that exist.
   */
  async cleanup (): Promise<IndexCleanupReport> {
    this.flush()
    const report: IndexCleanupReport = { indexes: 0, checked: 0, removed: 0 }
    for await (const index of this.redkit.scan(this.keys.userPattern, { type: 'zset' })) {
      report.indexes++
      let cursor = '0'
      do {
        const [next, flat] = await this.client.zscan(index, cursor, 'COUNT', INDEX_SCAN_COUNT)
        cursor = next
        const members = flat.filter((_, i) => i % 2 === 0)
        report.checked += members.length
        const owners = await Promise.all(members.map(async (id) =>
          SESSION_ID.test(id) ? parseMeta(await this.client.hget(this.keys.session(id), META_FIELD))?.u : undefined))
        const dead = members.filter((_, i) => owners[i] === undefined || this.keys.user(owners[i]!) !== index)
        if (dead.length > 0) report.removed += await this.client.zrem(index, ...dead)
      } while (cursor !== '0')
    }
    await this.repairRegistries()
    return report
  }

  async putToken (key: string, value: string, ttlMs: number): Promise<void> {
    this.flush()
    await this.client.psetex(this.keys.bridge(key), ttlMs, value)
  }

  async takeToken (key: string): Promise<string | null> {
    this.flush()
    const full = this.keys.bridge(key)
    if (this.hasGetdel) {
      try {
        return await this.client.getdel(full)
      } catch (err) {
        if (!isUnknownCommand(err)) throw err
        // Redis before 6.2 has no GETDEL; the script is just as atomic.
        this.hasGetdel = false
      }
    }
    return await this.takeScript([full])
  }

  /**
   * Registers sessions the registry lacks (written before it existed, or
   * after a failed second write on Cluster), drops entries whose session is
   * gone (evicted), and rescores users by the sessions their index still has.
   */
  private async repairRegistries (): Promise<void> {
    let batch: string[] = []
    const register = async (ids: string[]): Promise<void> => {
      await Promise.all(ids.map(async (id) => {
        if (await this.client.zscore(this.registry, id) !== null) return
        const [ttl, meta] = await Promise.all([this.client.pttl(this.keys.session(id)), this.client.hget(this.keys.session(id), META_FIELD)])
        if (ttl > 0) await this.registerApart(id, ttl, parseMeta(meta)?.u, undefined)
      }))
    }
    for await (const key of this.redkit.scan(this.keys.sessionPattern, { type: 'hash' })) {
      const id = this.keys.idOf(key)
      if (SESSION_ID.test(id)) batch.push(id)
      if (batch.length >= REPAIR_CHUNK) {
        await register(batch)
        batch = []
      }
    }
    await register(batch)
    await this.walk(this.registry, async (ids) => {
      const alive = await Promise.all(ids.map(async (id) => SESSION_ID.test(id) && await this.client.exists(this.keys.session(id)) === 1))
      const dead = ids.filter((_, i) => !alive[i])
      if (dead.length > 0) await this.client.zrem(this.registry, ...dead)
    })
    await this.walk(this.usersRegistry, async (users) => {
      const args: Array<string | number> = ['', '-']
      for (const user of users) {
        const top = await this.client.zrange(this.keys.user(user), '-1', '-1', 'WITHSCORES')
        args.push(user, top.length === 2 ? Number(top[1]) : 0)
      }
      await this.registerScript([this.registry, this.usersRegistry], args)
    })
  }

  /** ZSCAN over a sorted set, members only, in bounded batches. */
  private async walk (key: string, fn: (members: string[]) => Promise<void>): Promise<void> {
    let cursor = '0'
    do {
      const [next, flat] = await this.client.zscan(key, cursor, 'COUNT', INDEX_SCAN_COUNT)
      cursor = next
      const members = flat.filter((_, i) => i % 2 === 0)
      if (members.length > 0) await fn(members)
    } while (cursor !== '0')
  }

  close (): void {}
}
