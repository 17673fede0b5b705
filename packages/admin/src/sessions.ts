import type { Redkit, RedisClient } from '@redkit/core'
import { decodeCursor, encodeCursor, SESSION_ID, type Cursor } from './cursor.js'
import { AdminInvalidCursorError, AdminInvalidIdError } from './errors.js'
import { nodesOf } from './redis-info.js'

/** What the admin routes use of `app.sessions` (@redkit/session). */
export interface SessionsApi {
  store: {
    length: () => Promise<number>
    ids: () => Promise<string[]>
    /** The store's backend; in memory mode its load() gives the stored fields (older versions: with pttl). */
    readonly backend?: { load: (id: string) => Promise<StoredSession | null> }
  }
  listByUser: (userId: string) => Promise<Array<{ sessionId: string, created: number, expires: number, ip?: string, userAgent?: string }>>
  revoke: (sessionId: string) => Promise<void>
  revokeAll: (userId: string, opts?: { except?: string | string[] }) => Promise<number>
}

/** A stored session as the session backend loads it: fields by name, or a flat list with the remaining lifetime. */
export type StoredSession = Record<string, string> | { pttl: number, fields: string[] }

/** Metadata of one session; never its contents. */
export interface SessionInfo {
  sessionId: string
  userId?: string
  /** ms since the epoch. */
  created: number
  /** ms since the epoch. */
  expires: number
  ip?: string
  userAgent?: string
}

export interface SessionPage {
  sessions: SessionInfo[]
  /** Pass back as `cursor` for the next page; null when the listing is complete. */
  nextCursor: string | null
}

export interface SessionStats {
  mode: 'redis' | 'memory'
  sessions: number
  /** Per-user indexes; null where the backend does not expose them. */
  users: number | null
}

export interface CleanupReport {
  indexes: number
  entries: number
  removed: number
}

const META_FIELD = '#meta'
const COOKIE_FIELD = '#cookie'
const MAX_USER_ID = 512
const SCAN_COUNT = 500
/** Bounds the work of one page on a keyspace where sessions are sparse. */
const MAX_SCANS_PER_PAGE = 200
const CHUNK = 100

export function checkSessionId (id: string): void {
  if (!SESSION_ID.test(id)) throw new AdminInvalidIdError('session id: expected 8 to 128 of A-Z a-z 0-9 _ -')
}

export function checkUserId (userId: string): void {
  // eslint-disable-next-line no-control-regex
  if (userId.length === 0 || userId.length > MAX_USER_ID || /[\u0000-\u001f\u007f]/.test(userId)) {
    throw new AdminInvalidIdError(`user id: expected 1 to ${MAX_USER_ID} printable characters`)
  }
}

interface Meta { c?: unknown, u?: unknown, ip?: unknown, ua?: unknown }

function parseMeta (raw: string | null | undefined): Meta | undefined {
  if (typeof raw !== 'string') return undefined
  try {
    const meta = JSON.parse(raw) as unknown
    return typeof meta === 'object' && meta !== null ? meta as Meta : undefined
  } catch {
    return undefined
  }
}

/** Builds the public view from the metadata field alone. */
export function sessionInfo (sessionId: string, metaRaw: string | null | undefined, expires: number): SessionInfo {
  const meta = parseMeta(metaRaw) ?? {}
  return {
    sessionId,
    ...(typeof meta.u === 'string' ? { userId: meta.u } : {}),
    created: typeof meta.c === 'number' ? meta.c : 0,
    expires,
    ...(typeof meta.ip === 'string' ? { ip: meta.ip } : {}),
    ...(typeof meta.ua === 'string' ? { userAgent: meta.ua } : {})
  }
}

function storedFields (raw: StoredSession): Map<string, string> {
  const { fields } = raw as { fields?: unknown }
  if (Array.isArray(fields)) {
    const out = new Map<string, string>()
    for (let i = 0; i + 1 < fields.length; i += 2) out.set(String(fields[i]), String(fields[i + 1]))
    return out
  }
  return new Map(Object.entries(raw as Record<string, string>))
}

/** Expiry from the stored cookie, or 0 when it has none (a browser-session cookie). */
function cookieExpiry (raw: string | undefined): number {
  if (raw === undefined) return 0
  try {
    const expires = (JSON.parse(raw) as { expires?: unknown }).expires
    const at = typeof expires === 'string' || typeof expires === 'number' ? new Date(expires).getTime() : NaN
    return Number.isFinite(at) ? at : 0
  } catch {
    return 0
  }
}

async function inChunks<T, R> (items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(...await Promise.all(items.slice(i, i + CHUNK).map(fn)))
  return out
}

/**
 * Reads session metadata for the admin routes. On Redis it follows the
 * @redkit/session key layout (`sess:{<id>}` hashes with a '#meta' field,
 * `sess-user:{<user>}` sorted sets) and reads only the '#meta' field, so
 * session contents never leave Redis.
 */
export class SessionReader {
  constructor (private readonly redkit: Redkit, private readonly api: SessionsApi) {}

  private get client (): RedisClient | null {
    return this.redkit.client
  }

  private sessionKey (id: string): string {
    return `${this.redkit.key('sess', '')}{${id}}`
  }

  async get (id: string): Promise<SessionInfo | null> {
    checkSessionId(id)
    const [info] = await this.describe([id])
    return info ?? null
  }

  /** Metadata of live sessions among `ids`, in order; gone ones are skipped. */
  private async describe (ids: string[]): Promise<SessionInfo[]> {
    const client = this.client
    const expiries = new Map<string, Promise<Map<string, number>>>()
    const found = client === null
      ? await inChunks(ids, async (id) => await this.describeMemory(id, expiries))
      : await inChunks(ids, async (id) => {
        const key = this.sessionKey(id)
        const [meta, pttl] = await Promise.all([client.hget(key, META_FIELD), client.pttl(key)])
        return meta === null || pttl < 0 ? null : sessionInfo(id, meta, Date.now() + pttl)
      })
    return found.filter((info): info is SessionInfo => info !== null)
  }

  private async describeMemory (id: string, expiries: Map<string, Promise<Map<string, number>>>): Promise<SessionInfo | null> {
    const raw = await this.api.store.backend?.load(id)
    if (raw === null || raw === undefined) return null
    const fields = storedFields(raw)
    const info = sessionInfo(id, fields.get(META_FIELD), 0)
    if (typeof raw.pttl === 'number') {
      info.expires = Date.now() + raw.pttl
    } else if (info.userId !== undefined) {
      // The user index knows the exact expiry; read it once per user and page.
      const user = info.userId
      let expiry = expiries.get(user)
      if (expiry === undefined) {
        expiry = this.api.listByUser(user).then((list) => new Map(list.map((s) => [s.sessionId, s.expires])), () => new Map())
        expiries.set(user, expiry)
      }
      info.expires = (await expiry).get(id) ?? 0
    }
    if (info.expires === 0) info.expires = cookieExpiry(fields.get(COOKIE_FIELD))
    return info
  }

  async page (cursorText: string | undefined, limit: number): Promise<SessionPage> {
    const client = this.client
    if (client === null) return await this.memoryPage(cursorText, limit)
    const nodes = nodesOf(client, 'master')
    let cursor: Cursor = cursorText === undefined
      ? { kind: 'redis', node: 0, scan: '0', pending: [] }
      : decodeCursor(cursorText, nodes.length)
    if (cursor.kind !== 'redis') throw new AdminInvalidCursorError()
    const ids = [...cursor.pending]
    let { node, scan } = cursor
    const sessionPrefix = this.redkit.key('sess', '')
    const pattern = `${this.redkit.escapeGlob(sessionPrefix)}{*}`
    for (let calls = 0; ids.length < limit && node < nodes.length && calls < MAX_SCANS_PER_PAGE; calls++) {
      const [next, keys] = await nodes[node]!.call('SCAN', scan, 'MATCH', pattern, 'COUNT', SCAN_COUNT, 'TYPE', 'hash') as [string, string[]]
      for (const key of keys) {
        const id = key.slice(sessionPrefix.length + 1, -1)
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
    cursor = { kind: 'redis', node, scan, pending }
    const done = node >= nodes.length && pending.length === 0
    return { sessions: await this.describe(ids), nextCursor: done ? null : encodeCursor(cursor) }
  }

  private async memoryPage (cursorText: string | undefined, limit: number): Promise<SessionPage> {
    const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText, 0)
    if (cursor !== undefined && cursor.kind !== 'memory') throw new AdminInvalidCursorError()
    const after = cursor?.after
    const all = (await this.api.store.ids()).filter((id) => SESSION_ID.test(id)).sort()
    const rest = after === undefined ? all : all.filter((id) => id > after)
    const ids = rest.slice(0, limit)
    const last = ids[ids.length - 1]
    return {
      sessions: await this.describe(ids),
      nextCursor: rest.length > limit && last !== undefined ? encodeCursor({ kind: 'memory', after: last }) : null
    }
  }

  async stats (): Promise<SessionStats> {
    const sessions = await this.api.store.length()
    if (this.client === null) return { mode: 'memory', sessions, users: null }
    let users = 0
    const pattern = `${this.redkit.escapeGlob(this.redkit.key('sess-user', ''))}*`
    for await (const key of this.redkit.scan(pattern, { type: 'zset' })) if (key !== '') users++
    return { mode: 'redis', sessions, users }
  }

  /**
   * Drops user-index entries whose session no longer exists. The memory
   * backend keeps its index exact on its own, so there is nothing to do there.
   */
  async cleanup (): Promise<CleanupReport> {
    const client = this.client
    const report: CleanupReport = { indexes: 0, entries: 0, removed: 0 }
    if (client === null) return report
    const pattern = `${this.redkit.escapeGlob(this.redkit.key('sess-user', ''))}*`
    for await (const index of this.redkit.scan(pattern, { type: 'zset' })) {
      report.indexes++
      const members = await client.zrange(index, '0', '-1')
      report.entries += members.length
      const alive = await inChunks(members, async (id) => await client.exists(this.sessionKey(id)) === 1)
      const dead = members.filter((_, i) => alive[i] !== true)
      if (dead.length > 0) report.removed += await client.zrem(index, ...dead)
    }
    return report
  }
}
