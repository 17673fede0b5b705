import type { Redkit, RedkitScript, RedisClient } from '@redkit/core'
import type { Cluster, Redis } from 'ioredis'
import {
  META_FIELD, parseMeta, SESSION_ID, type IdPage, type IndexCleanupReport, type IndexEntry, type LoadedRaw, type SavePlan,
  type SessionBackend, type SessionCounts, type StoredMeta
} from './backend.js'
import { decodeCursor, encodeCursor, MAX_LIST_LIMIT, type Cursor } from './cursor.js'
import { SessionInvalidCursorError } from './errors.js'
import { DESTROY, INDEX, META, SAVE, TAKE, TOUCH, USER_LIST } from './lua.js'
import type { ResolvedStoreOptions } from './options.js'

const CLEAR_BATCH = 100
/** Smallest SCAN COUNT of a listing call, so sparse keyspaces need few round trips. */
const MIN_SCAN_COUNT = 250
/** Bounds the work of one page on a keyspace where sessions are sparse; the page may then come back short. */
const MAX_SCANS_PER_PAGE = 200
const COUNT_SCAN = 1000
const INDEX_SCAN_COUNT = 100

function nodeName (node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`
}

/** Escapes what hashTag would fold, so distinct user ids never share a key. */
function tagSafe (text: string): string {
  return text.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function isUnknownCommand (err: unknown): boolean {
  return /unknown command/i.test((err as Error | null)?.message ?? '')
}

/**
 * Key layout (under the core prefix):
 *   sess:{<id>}        hash: '#meta', '#cookie' and '.<field>' JSON values
 *   sess-gone:{<id>}   tombstone of a destroyed session
 *   sess-user:{<user>} sorted set of session ids scored by expiry (ms)
 *   sess-bridge:<hash> bridge token payload
 */
export class RedisBackend implements SessionBackend {
  private readonly client: RedisClient
  private readonly saveScript: RedkitScript<number>
  private readonly saveIndexedScript: RedkitScript<number>
  private readonly saveReindexedScript: RedkitScript<number>
  private readonly touchScript: RedkitScript<number>
  private readonly touchIndexedScript: RedkitScript<number>
  private readonly indexScript: RedkitScript<number>
  private readonly destroyScript: RedkitScript<string | null>
  private readonly userListScript: RedkitScript<string[]>
  private readonly takeScript: RedkitScript<string | null>
  private readonly metaScript: RedkitScript<[string, number] | null>
  private readonly sessionPrefix: string
  private readonly gonePrefix: string
  private readonly userPrefix: string
  private readonly inlineIndex: boolean
  private readonly loading = new Map<string, Promise<LoadedRaw>>()
  private hasGetdel = true

  constructor (private readonly redkit: Redkit, private readonly options: ResolvedStoreOptions) {
    if (redkit.client === null) throw new Error('RedisBackend needs a Redis client')
    this.client = redkit.client
    this.sessionPrefix = redkit.key('sess', '')
    this.gonePrefix = redkit.key('sess-gone', '')
    this.userPrefix = redkit.key('sess-user', '')
    // One script may only touch keys of one slot on Cluster; the user index
    // lives in its own slot there, so it is updated by a second script.
    this.inlineIndex = !redkit.isCluster
    this.saveScript = redkit.defineScript('redkitSessionSave', SAVE, 2)
    this.saveIndexedScript = redkit.defineScript('redkitSessionSaveIndexed', SAVE, 3)
    this.saveReindexedScript = redkit.defineScript('redkitSessionSaveReindexed', SAVE, 4)
    this.touchScript = redkit.defineScript('redkitSessionTouch', TOUCH, 1)
    this.touchIndexedScript = redkit.defineScript('redkitSessionTouchIndexed', TOUCH, 2)
    this.indexScript = redkit.defineScript('redkitSessionIndex', INDEX, 1)
    this.destroyScript = redkit.defineScript('redkitSessionDestroy', DESTROY, 2)
    this.userListScript = redkit.defineScript('redkitSessionUserList', USER_LIST, 1)
    this.takeScript = redkit.defineScript('redkitSessionTake', TAKE, 1)
    this.metaScript = redkit.defineScript('redkitSessionMeta', META, 1)
  }

  /** Every master, in a stable order, so a listing cursor names the same master on every instance. */
  private masters (): Redis[] {
    const nodes = this.redkit.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis]
    return [...nodes].sort((a, b) => nodeName(a).localeCompare(nodeName(b)))
  }

  private sessionPattern (): string {
    return `${this.redkit.escapeGlob(this.sessionPrefix)}{*}`
  }

  private userPattern (): string {
    return `${this.redkit.escapeGlob(this.userPrefix)}*`
  }

  private sessionKey (id: string): string {
    return `${this.sessionPrefix}{${id}}`
  }

  private goneKey (id: string): string {
    return `${this.gonePrefix}{${id}}`
  }

  private userKey (user: string): string {
    return `${this.userPrefix}{${tagSafe(user)}}`
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
      const sent = this.client.hgetall(this.sessionKey(id))
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
    const { id, user, previousUser } = plan
    const keys = [this.sessionKey(id), this.goneKey(id)]
    const args: Array<string | number> = [plan.mode === 'new' ? 'n' : 'u', plan.ttlMs, plan.set.length / 2, plan.del.length, id]
    for (const item of plan.set) args.push(item)
    for (const item of plan.del) args.push(item)
    const moved = previousUser !== undefined && previousUser !== user
    if (this.inlineIndex) {
      if (moved && user === undefined) return await this.saveThenUnindex(keys, args, previousUser, id)
      if (moved) return await this.saveReindexedScript([...keys, this.userKey(user!), this.userKey(previousUser)], args) === 1
      if (user !== undefined) return await this.saveIndexedScript([...keys, this.userKey(user)], args) === 1
      return await this.saveScript(keys, args) === 1
    }
    const saved = await this.saveScript(keys, args) === 1
    if (saved) {
      if (moved) await this.client.zrem(this.userKey(previousUser), id)
      if (user !== undefined) await this.indexScript([this.userKey(user)], [plan.ttlMs, id])
    }
    return saved
  }

  private async saveThenUnindex (keys: string[], args: Array<string | number>, previousUser: string, id: string): Promise<boolean> {
    const saved = await this.saveScript(keys, args) === 1
    await this.client.zrem(this.userKey(previousUser), id)
    return saved
  }

  async touch (id: string, ttlMs: number, user: string | undefined): Promise<boolean> {
    if (user !== undefined && this.inlineIndex) {
      return await this.touchIndexedScript([this.sessionKey(id), this.userKey(user)], [ttlMs, id]) === 1
    }
    const touched = await this.touchScript([this.sessionKey(id)], [ttlMs, id]) === 1
    if (touched && user !== undefined) await this.indexScript([this.userKey(user)], [ttlMs, id])
    return touched
  }

  async destroy (id: string, tombstone: boolean): Promise<void> {
    const meta = await this.destroyScript([this.sessionKey(id), this.goneKey(id)], [tombstone ? this.options.tombstoneTtlMs : 0])
    const user = parseMeta(meta)?.u
    if (user !== undefined) await this.client.zrem(this.userKey(user), id)
  }

  async * ids (): AsyncIterable<string> {
    const start = this.sessionPrefix.length + 1
    for await (const key of this.redkit.scan(this.sessionPattern(), { type: 'hash' })) {
      yield key.slice(start, -1)
    }
  }

  async clear (): Promise<void> {
    for (const pattern of [this.sessionPattern(), this.userPattern()]) {
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
  }

  private async unlink (keys: string[]): Promise<void> {
    // Keys of different slots cannot share one command on Cluster.
    await Promise.all(keys.map(async (key) => await this.client.unlink(key)))
  }

  async listUser (user: string): Promise<IndexEntry[]> {
    const index = this.userKey(user)
    const flat = await this.userListScript([index])
    const entries: Array<{ id: string, expires: number }> = []
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i]!, expires: Number(flat[i + 1]) })
    const metas = await Promise.all(entries.map(async (e) => await this.client.hget(this.sessionKey(e.id), META_FIELD)))
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
    const found = await this.metaScript([this.sessionKey(id)])
    return found === null ? null : { id, meta: found[0], expiresAt: Number(found[1]) }
  }

  /**
   * SCAN one master after the other, resuming where the cursor says. Ids
   * scanned beyond the limit travel in the cursor, so none is skipped.
   */
  async page (cursorText: string | undefined, limit: number): Promise<IdPage> {
    const nodes = this.masters()
    const cursor: Cursor = cursorText === undefined
      ? { kind: 'redis', node: 0, scan: '0', pending: [] }
      : decodeCursor(cursorText, nodes.length)
    if (cursor.kind !== 'redis') throw new SessionInvalidCursorError()
    const ids = [...cursor.pending]
    let { node, scan } = cursor
    const start = this.sessionPrefix.length + 1
    const pattern = this.sessionPattern()
    for (let calls = 0; ids.length < limit && node < nodes.length && calls < MAX_SCANS_PER_PAGE; calls++) {
      // Asking for about what is missing keeps the carried-over ids few.
      const count = Math.min(Math.max(limit - ids.length, MIN_SCAN_COUNT), MAX_LIST_LIMIT)
      const [next, keys] = await nodes[node]!.call('SCAN', scan, 'MATCH', pattern, 'COUNT', count, 'TYPE', 'hash') as [string, string[]]
      for (const key of keys) {
        const id = key.slice(start, -1)
        if (SESSION_ID.test(id)) ids.push(id)
      }
      if (next === '0') {
        node++
        scan = '0'
      } else {
        scan = next
      }
    }
    const pending = ids.splice(limit)
    const done = node >= nodes.length && pending.length === 0
    return { ids, cursor: done ? null : encodeCursor({ kind: 'redis', node, scan, pending }) }
  }

  async count (): Promise<SessionCounts> {
    const tally = async (pattern: string, type: string): Promise<number> => {
      let n = 0
      for await (const key of this.redkit.scan(pattern, { type, count: COUNT_SCAN })) if (key !== '') n++
      return n
    }
    const [sessions, users] = await Promise.all([tally(this.sessionPattern(), 'hash'), tally(this.userPattern(), 'zset')])
    return { sessions, users }
  }

  /**
   * Walks every user index with ZSCAN (bounded replies, whatever its size)
   * and drops entries whose session is gone or now names another user, as
   * after an eviction or a failed second write on Cluster.
   */
  async cleanup (): Promise<IndexCleanupReport> {
    const report: IndexCleanupReport = { indexes: 0, checked: 0, removed: 0 }
    for await (const index of this.redkit.scan(this.userPattern(), { type: 'zset' })) {
      report.indexes++
      let cursor = '0'
      do {
        const [next, flat] = await this.client.zscan(index, cursor, 'COUNT', INDEX_SCAN_COUNT)
        cursor = next
        const members = flat.filter((_, i) => i % 2 === 0)
        report.checked += members.length
        const owners = await Promise.all(members.map(async (id) =>
          SESSION_ID.test(id) ? parseMeta(await this.client.hget(this.sessionKey(id), META_FIELD))?.u : undefined))
        const dead = members.filter((_, i) => owners[i] === undefined || this.userKey(owners[i]!) !== index)
        if (dead.length > 0) report.removed += await this.client.zrem(index, ...dead)
      } while (cursor !== '0')
    }
    return report
  }

  async putToken (key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.psetex(this.redkit.key('sess-bridge', key), ttlMs, value)
  }

  async takeToken (key: string): Promise<string | null> {
    const full = this.redkit.key('sess-bridge', key)
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

  close (): void {}
}
