import { EventEmitter } from 'node:events'
import type { FastifyInstance } from 'fastify'
import {
  COOKIE_FIELD, META_FIELD, parseMeta, SESSION_ID, type IndexCleanupReport, type Meta, type SavePlan,
  type SessionBackend, type SessionCounts
} from './backend.js'
import { diffFields, type Change } from './diff.js'
import { SessionInvalidOptionError } from './errors.js'
import { checkId, checkUserId, newSessionId, userKey } from './ids.js'
import { checkListOptions, inChunks, toSessionInfo, type SessionInfo, type SessionListOptions, type SessionListPage } from './listing.js'
import { createBackend } from './factory.js'
import { checkOwnStoreOptions, type ResolvedStoreOptions, type SessionStoreOptions } from './options.js'
import { metaFor, requestOf } from './request-meta.js'
import { cookieExpiry, decode, encodeCookie, snapshots, type Decoded, type Snapshot } from './snapshot.js'

export { checkId, checkUserId } from './ids.js'

export type SessionData = Record<string, unknown>
export type Callback<T = void> = (err: unknown, result?: T) => void

/** A session of a listed user: the user is the one asked for. */
export type UserSession = Omit<SessionInfo, 'userId'>

/**
 * Request property holding the id generateId() issued to the request, until
 * that session's first save. The plugin declares it with decorateRequest, so
 * requests keep one shape (a WeakMap would cost the garbage collector an
 * ephemeron per request).
 */
export const FRESH_ID = Symbol('redkit.session.freshId')

/**
 * Settles a promise into a Node-style callback, or returns it when there is
 * none. An exception thrown by the callback becomes an unhandled rejection,
 * which Node reports like an uncaught exception; it is never swallowed.
 */
function settle<T> (promise: Promise<T>, callback: Callback<T> | undefined): Promise<T> | undefined {
  if (callback === undefined) return promise
  promise.then((value) => { callback(null, value) }, (err: unknown) => { callback(err) })
  return undefined
}

/**
 * Session store for @fastify/session and express-session, on Redis or on
 * the in-memory backend (whichever @redkit/core runs). Saves write only the
 * top-level fields that changed since the session was loaded, so concurrent
 * requests changing different fields do not lose each other's writes.
 */
export class SessionStore extends EventEmitter {
  readonly options: ResolvedStoreOptions
  private backendInstance: SessionBackend | undefined
  /** What get() is delivering to its callback right now; see adopt(). */
  private delivering: Decoded | undefined

  constructor (private readonly app: FastifyInstance, options: SessionStoreOptions = {}) {
    super()
    this.options = checkOwnStoreOptions(options)
  }

  /**
   * The storage backend, picked on first use so the store can be built before
   * @redkit/core finishes registering. Internal: its shape may change in any
   * release; read metadata through meta(), list(), count() and cleanup().
   */
  get backend (): SessionBackend {
    if (this.backendInstance === undefined) {
      const redkit = this.app.redkit
      if (redkit === undefined) throw new SessionInvalidOptionError('register @redkit/core before using the session store')
      this.backendInstance = createBackend(redkit, this.options)
    }
    return this.backendInstance
  }

  get (sessionId: string, callback: Callback<SessionData | null>): void
  get (sessionId: string): Promise<SessionData | null>
  get (sessionId: string, callback?: Callback<SessionData | null>): Promise<SessionData | null> | undefined {
    const loading = this.load(sessionId)
    if (callback === undefined) return loading.then((loaded) => loaded?.data ?? null)
    // A throwing callback rejects the chained promise: reported as unhandled, never swallowed.
    loading.then((loaded) => {
      this.delivering = loaded ?? undefined
      try {
        callback(null, loaded?.data ?? null)
      } finally {
        this.delivering = undefined
      }
    }, (err: unknown) => { callback(err) })
    return undefined
  }

  /**
   * Links a session object that @fastify/session just built from a loaded
   * session (it copies the loaded fields into an object of its own) to what
   * was loaded, so its next save writes only what changed. It must run while
   * get() delivers, i.e. in the onRequest hook right after @fastify/session's,
   * which Fastify runs synchronously; the plugin does this. Returns whether
   * the session was linked; unlinked sessions are written whole.
   */
  adopt (session: object): boolean {
    const loaded = this.delivering
    if (loaded === undefined || loaded.snapshot.id !== (session as { sessionId?: unknown }).sessionId) return false
    this.delivering = undefined
    snapshots.set(session, loaded.snapshot)
    return true
  }

  /**
   * A new session id for a request, as @fastify/session's idGenerator (the
   * plugin passes it unless an idGenerator is given). The first save of a
   * session under that id writes it without checking for a stored session
   * or a tombstone: no other request can know the id before that save.
   */
  generateId (request?: unknown): string {
    const id = newSessionId()
    if (typeof request === 'object' && request !== null) (request as Record<symbol, unknown>)[FRESH_ID] = id
    return id
  }

  /** Whether this save is the first of an id generateId() issued to the session's request; consumes the mark. */
  private takeFresh (id: string, session: object): boolean {
    const request = requestOf(session) as Record<symbol, unknown> | undefined
    if (request?.[FRESH_ID] !== id) return false
    request[FRESH_ID] = null
    return true
  }

  set (sessionId: string, session: object, callback: Callback): void
  set (sessionId: string, session: object): Promise<void>
  set (sessionId: string, session: object, callback?: Callback): Promise<void> | undefined {
    return settle(this.save(sessionId, session), callback)
  }

  destroy (sessionId: string, callback: Callback): void
  destroy (sessionId: string): Promise<void>
  destroy (sessionId: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.remove(sessionId, true), callback)
  }

  /** Moves the expiry only; never rewrites data. */
  touch (sessionId: string, session: object, callback: Callback): void
  touch (sessionId: string, session: object): Promise<void>
  touch (sessionId: string, session: object, callback?: Callback): Promise<void> | undefined {
    return settle(this.refresh(sessionId, session), callback)
  }

  /** Every live session, each with its id (SCAN over every master). */
  all (callback: Callback<SessionData[]>): void
  all (): Promise<SessionData[]>
  all (callback?: Callback<SessionData[]>): Promise<SessionData[]> | undefined {
    return settle(this.collect(), callback)
  }

  ids (callback: Callback<string[]>): void
  ids (): Promise<string[]>
  ids (callback?: Callback<string[]>): Promise<string[]> | undefined {
    return settle(this.listIds(), callback)
  }

  length (callback: Callback<number>): void
  length (): Promise<number>
  length (callback?: Callback<number>): Promise<number> | undefined {
    return settle(this.listIds().then((ids) => ids.length), callback)
  }

  /** Deletes every session and user index of this app's prefix. */
  clear (callback: Callback): void
  clear (): Promise<void>
  clear (callback?: Callback): Promise<void> | undefined {
    return settle(this.backend.clear(), callback)
  }

  /** Live sessions of a user, with their metadata. */
  async listByUser (userId: string | number): Promise<UserSession[]> {
    const entries = await this.backend.listUser(checkUserId(userId))
    return entries.map(({ id, expires, meta }) => {
      const m = parseMeta(meta)
      return {
        sessionId: id,
        created: m?.c ?? 0,
        expires,
        ...(m?.ip !== undefined ? { ip: m.ip } : {}),
        ...(m?.ua !== undefined ? { userAgent: m.ua } : {})
      }
    })
  }

  /** Destroys one session; it cannot be saved again. */
  async revoke (sessionId: string): Promise<void> {
    await this.remove(sessionId, true)
  }

  /** Destroys every session of a user except the listed ones; returns how many were revoked. */
  async revokeAll (userId: string | number, opts: { except?: string | string[] } = {}): Promise<number> {
    const user = checkUserId(userId)
    const except = new Set(typeof opts.except === 'string' ? [opts.except] : opts.except ?? [])
    // Listing drops index entries whose session already ended, so the count is of live sessions.
    const ids = (await this.backend.listUser(user)).map((entry) => entry.id).filter((id) => !except.has(id))
    await Promise.all(ids.map(async (id) => { await this.backend.destroy(id, true) }))
    return ids.length
  }

  /** Metadata of one session (never its contents), or null when it does not exist. */
  async meta (sessionId: string): Promise<SessionInfo | null> {
    checkId(sessionId)
    const stored = await this.backend.meta(sessionId)
    return stored === null ? null : toSessionInfo(stored)
  }

  /**
   * One page of session metadata. On Redis it SCANs every master in turn;
   * sessions that end between the scan and the read are left out, so a page
   * may be short. Only a null cursor means the listing is complete.
   */
  async list (opts?: SessionListOptions): Promise<SessionListPage> {
    const { cursor, limit } = checkListOptions(opts)
    const page = await this.backend.page(cursor, limit)
    // SCAN may return an id twice while the keyspace grows.
    const ids = [...new Set(page.ids)]
    const found = await inChunks(ids, async (id) => await this.backend.meta(id))
    const sessions: SessionInfo[] = []
    for (const stored of found) if (stored !== null) sessions.push(toSessionInfo(stored))
    return { sessions, cursor: page.cursor }
  }

  /** Live sessions and per-user indexes, counted with SCAN over every master. */
  async count (): Promise<SessionCounts> {
    return await this.backend.count()
  }

  /** Drops per-user index entries whose session is gone or belongs to another user now. */
  async cleanup (): Promise<IndexCleanupReport> {
    return await this.backend.cleanup()
  }

  close (): void {
    this.backendInstance?.close()
  }

  /**
   * A malformed id can only come from a cookie this app signed (after an
   * idGenerator change, or from another store): it gets no session, so
   * @fastify/session starts a fresh one, as for an unknown or forged cookie.
   * Nothing is looked up for it.
   */
  private async load (id: string): Promise<Decoded | null> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) {
      this.app.log.debug('redkit session: malformed session id, starting a fresh session')
      return null
    }
    const raw = await this.backend.load(id)
    if (raw === null) return null
    const decoded = decode(id, raw)
    // A caller may pass the loaded object itself back to set().
    snapshots.set(decoded.data, decoded.snapshot)
    return decoded
  }

  private ttlOf (session: object): number {
    const expiry = cookieExpiry((session as { cookie?: unknown }).cookie)
    return expiry === undefined ? this.options.ttlMs : expiry - Date.now()
  }

  private userOf (session: object): string | undefined {
    const field = this.options.userField
    return field === false ? undefined : userKey((session as Record<string, unknown>)[field])
  }

  /**
   * The session's TTL in ms or, when its cookie has expired, the destroy that
   * replaces the write. Synchronous, so that the command of a save or touch is
   * issued when it is called: calls on one id apply in the order they are made.
   */
  private ttlOrDestroy (id: string, session: object): number | Promise<void> {
    checkId(id)
    const ttlMs = this.ttlOf(session)
    return ttlMs > 0 ? ttlMs : this.backend.destroy(id, false)
  }

  private async save (id: string, session: object): Promise<void> {
    const ttlMs = this.ttlOrDestroy(id, session)
    if (typeof ttlMs !== 'number') {
      await ttlMs
      return
    }
    let snapshot: Snapshot | undefined = snapshots.get(session)
    if (snapshot?.id !== id) snapshot = undefined

    const { set, del, changes } = diffFields(session, snapshot, this.options.maxSize)

    const cookie = encodeCookie((session as { cookie?: unknown }).cookie)
    if (cookie !== undefined && cookie !== snapshot?.cookie) set.push(COOKIE_FIELD, cookie)

    const user = this.userOf(session)
    const previousUser = snapshot?.meta?.u
    let meta = snapshot?.meta
    if (snapshot === undefined || meta === undefined || user !== previousUser) {
      meta = metaFor(session, meta?.c ?? Date.now(), user)
      set.push(META_FIELD, JSON.stringify(meta))
    }

    const plan: SavePlan = {
      id,
      mode: snapshot !== undefined ? 'update' : this.takeFresh(id, session) ? 'fresh' : 'new',
      ttlMs,
      set,
      del,
      user,
      previousUser
    }
    const saved = await this.backend.save(plan)
    if (!saved) {
      this.app.log.debug({ sessionId: id.slice(0, 6) }, 'redkit session: save skipped, the session was destroyed or expired meanwhile')
      return
    }
    this.remember(snapshot, changes, cookie, meta)
  }

  /**
   * Keeps what was just written in the loaded snapshot, so a second save in
   * the same request is a diff too. A session that was written whole is
   * written whole again: no other request knows a new id yet.
   */
  private remember (snapshot: Snapshot | undefined, changes: Change[], cookie: string | undefined, meta: Meta): void {
    if (snapshot === undefined) return
    for (const { key, state } of changes) {
      if (state === undefined) snapshot.fields.delete(key)
      else snapshot.fields.set(key, state)
    }
    snapshot.cookie = cookie
    snapshot.meta = meta
  }

  private async refresh (id: string, session: object): Promise<void> {
    const ttlMs = this.ttlOrDestroy(id, session)
    if (typeof ttlMs !== 'number') {
      await ttlMs
      return
    }
    await this.backend.touch(id, ttlMs, this.userOf(session))
  }

  private async remove (id: string, tombstone: boolean): Promise<void> {
    checkId(id)
    await this.backend.destroy(id, tombstone)
  }

  private async listIds (): Promise<string[]> {
    const ids = new Set<string>()
    for await (const id of this.backend.ids()) ids.add(id)
    return [...ids]
  }

  private async collect (): Promise<SessionData[]> {
    const out: SessionData[] = []
    for (const id of await this.listIds()) {
      const raw = await this.backend.load(id)
      if (raw === null) continue
      out.push({ id, ...decode(id, raw).data })
    }
    return out
  }
}

/** @deprecated Renamed `SessionStore` (it runs on the memory backend too); this alias goes in a later major. */
export const RedisSessionStore = SessionStore
/** @deprecated Renamed `SessionStore`. */
// eslint-disable-next-line @typescript-eslint/no-redeclare -- the alias is both the class and its instance type
export type RedisSessionStore = SessionStore
