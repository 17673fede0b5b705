import { AdminInvalidCursorError, AdminInvalidIdError } from './errors.js'

/** Metadata of one session as `app.sessions` (@redkit/session) reports it. */
export interface SessionMetaLike {
  id: string
  userId?: string
  createdAt: number
  expiresAt: number
  ip?: string
  userAgent?: string
}

/** What the admin routes use of `app.sessions` (@redkit/session): its public metadata and paging API only. */
export interface SessionsApi {
  meta: (sessionId: string) => Promise<SessionMetaLike | null>
  list: (opts: { cursor?: string | null, limit?: number }) => Promise<{ sessions: SessionMetaLike[], cursor: string | null }>
  count: () => Promise<{ sessions: number, users: number }>
  cleanup: () => Promise<{ indexes: number, checked: number, removed: number }>
  listByUser: (userId: string) => Promise<Array<{ sessionId: string, created: number, expires: number, ip?: string, userAgent?: string }>>
  revoke: (sessionId: string) => Promise<void>
  revokeAll: (userId: string, opts?: { except?: string | string[] }) => Promise<number>
}

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
  /** Per-user indexes. */
  users: number
}

export interface CleanupReport {
  indexes: number
  entries: number
  removed: number
}

const MAX_USER_ID = 512

export function checkUserId (userId: string): void {
  // eslint-disable-next-line no-control-regex
  if (userId.length === 0 || userId.length > MAX_USER_ID || /[\u0000-\u001f\u007f]/.test(userId)) {
    throw new AdminInvalidIdError(`user id: expected 1 to ${MAX_USER_ID} printable characters`)
  }
}

/** Turns @redkit/session's input errors into this API's codes, so clients see one vocabulary. */
function translate (err: unknown): unknown {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'FST_REDKIT_SESSION_INVALID_CURSOR': return new AdminInvalidCursorError()
    case 'FST_REDKIT_SESSION_INVALID_ID': return new AdminInvalidIdError('session id: expected 8 to 128 of A-Z a-z 0-9 _ -')
    case 'FST_REDKIT_SESSION_INVALID_USER_ID': return new AdminInvalidIdError(`user id: expected 1 to ${MAX_USER_ID} printable characters`)
    default: return err
  }
}

async function call<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw translate(err)
  }
}

function info (meta: SessionMetaLike): SessionInfo {
  return {
    sessionId: meta.id,
    ...(meta.userId !== undefined ? { userId: meta.userId } : {}),
    created: meta.createdAt,
    expires: meta.expiresAt,
    ...(meta.ip !== undefined ? { ip: meta.ip } : {}),
    ...(meta.userAgent !== undefined ? { userAgent: meta.userAgent } : {})
  }
}

/** The session routes' view of `app.sessions`. */
export class SessionReader {
  constructor (private readonly api: SessionsApi, private readonly mode: 'redis' | 'memory') {}

  async get (id: string): Promise<SessionInfo | null> {
    const meta = await call(async () => await this.api.meta(id))
    return meta === null ? null : info(meta)
  }

  async page (cursor: string | undefined, limit: number): Promise<SessionPage> {
    const page = await call(async () => await this.api.list({ cursor, limit }))
    return { sessions: page.sessions.map(info), nextCursor: page.cursor }
  }

  async stats (): Promise<SessionStats> {
    const { sessions, users } = await this.api.count()
    return { mode: this.mode, sessions, users }
  }

  async cleanup (): Promise<CleanupReport> {
    const { indexes, checked, removed } = await this.api.cleanup()
    return { indexes, entries: checked, removed }
  }

  async revoke (id: string): Promise<void> {
    await call(async () => { await this.api.revoke(id) })
  }

  async listByUser (userId: string): Promise<SessionInfo[]> {
    checkUserId(userId)
    const list = await call(async () => await this.api.listByUser(userId))
    return list.map((s) => ({
      sessionId: s.sessionId,
      userId,
      created: s.created,
      expires: s.expires,
      ...(s.ip !== undefined ? { ip: s.ip } : {}),
      ...(s.userAgent !== undefined ? { userAgent: s.userAgent } : {})
    }))
  }

  async revokeAll (userId: string): Promise<number> {
    checkUserId(userId)
    return await call(async () => await this.api.revokeAll(userId))
  }
}
