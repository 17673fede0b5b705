import { parseMeta, type StoredMeta } from './backend.js'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './cursor.js'
import { SessionInvalidCursorError, SessionInvalidLimitError } from './errors.js'

export type { SessionCounts, IndexCleanupReport } from './backend.js'

/** What an administrator may see of a session: never its contents. */
export interface SessionInfo {
  sessionId: string
  /** The indexed user id, when the session holds one. */
  userId?: string
  /** ms since the epoch. */
  created: number
  /** ms since the epoch, by the Redis server's clock on Redis. */
  expires: number
  ip?: string
  userAgent?: string
}

/** @deprecated The former name of SessionInfo. */
export type SessionMeta = SessionInfo

export interface SessionListOptions {
  /** The `cursor` of the previous page; omit (or null) for the first page. */
  cursor?: string | null
  /** Most sessions in the page, 1 to 1000. Default 100. */
  limit?: number
}

export interface SessionListPage {
  sessions: SessionInfo[]
  /** Opaque; pass it back for the next page. null when the listing is complete. */
  cursor: string | null
}

/** Sessions whose metadata is read at once; bounds the commands in flight for one page. */
const CHUNK = 100

export function toSessionInfo ({ id, meta, expiresAt }: StoredMeta): SessionInfo {
  const m = parseMeta(meta)
  return {
    sessionId: id,
    ...(typeof m?.u === 'string' ? { userId: m.u } : {}),
    created: typeof m?.c === 'number' ? m.c : 0,
    expires: expiresAt,
    ...(typeof m?.ip === 'string' ? { ip: m.ip } : {}),
    ...(typeof m?.ua === 'string' ? { userAgent: m.ua } : {})
  }
}

export function checkListOptions (opts: unknown): { cursor: string | undefined, limit: number } {
  if (opts === undefined || opts === null) return { cursor: undefined, limit: DEFAULT_LIST_LIMIT }
  if (typeof opts !== 'object') throw new SessionInvalidLimitError(`options of type ${typeof opts}`)
  const { cursor, limit = DEFAULT_LIST_LIMIT } = opts as SessionListOptions
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new SessionInvalidLimitError(JSON.stringify(limit) ?? String(limit))
  }
  if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') throw new SessionInvalidCursorError()
  return { cursor: cursor ?? undefined, limit }
}

export async function inChunks<T, R> (items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(...await Promise.all(items.slice(i, i + CHUNK).map(fn)))
  return out
}
