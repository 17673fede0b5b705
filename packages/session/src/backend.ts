/** Hash field of the session metadata (created, user, ip, user agent). */
export const META_FIELD = '#meta'
/** Hash field of the session cookie. */
export const COOKIE_FIELD = '#cookie'
/** Prefix of the hash fields that hold top-level session fields. */
export const DATA_PREFIX = '.'

/** Session ids as the store accepts them; nothing else is ever looked up. */
export const SESSION_ID = /^[A-Za-z0-9_-]{8,128}$/

/** A stored session hash: field name to raw value. */
export type LoadedRaw = Record<string, string>

export interface SavePlan {
  id: string
  /**
   * 'new' writes the whole session, replacing any stored one unless it was
   * destroyed; 'fresh' is 'new' for an id generated for this request and never
   * saved, which nothing can have stored or destroyed, so it checks nothing;
   * 'update' merges into a session that must still exist.
   */
  mode: 'new' | 'fresh' | 'update'
  ttlMs: number
  /** Flat [field, value, ...] to write. */
  set: string[]
  /** Fields to remove. */
  del: string[]
  /** User whose index lists this session. */
  user?: string | undefined
  /** User whose index listed it before this save, when that changed. */
  previousUser?: string | undefined
}

export interface IndexEntry {
  id: string
  /** Expiry in ms since the epoch. */
  expires: number
  /** Raw meta field. */
  meta: string
}

/** Metadata of a live session, read without its contents. */
export interface StoredMeta {
  id: string
  /** Raw meta field ('{}' when missing). */
  meta: string
  /** Expiry in ms since the epoch. */
  expiresAt: number
}

/** Ids of one listing page and the opaque cursor of the next one. */
export interface IdPage {
  ids: string[]
  cursor: string | null
}

export interface SessionCounts {
  /** Live sessions. */
  sessions: number
  /** Per-user indexes. */
  users: number
}

export interface IndexCleanupReport {
  /** Per-user indexes looked at. */
  indexes: number
  /** Index entries looked at. */
  checked: number
  /** Entries dropped because their session is gone or belongs to another user now. */
  removed: number
}

/** What the store needs from a place to keep sessions. Both backends behave the same. */
export interface SessionBackend {
  load: (id: string) => Promise<LoadedRaw | null>
  save: (plan: SavePlan) => Promise<boolean>
  touch: (id: string, ttlMs: number, user: string | undefined) => Promise<boolean>
  /** Deletes a session; with a tombstone, saves of it fail for tombstoneTtl. */
  destroy: (id: string, tombstone: boolean) => Promise<void>
  ids: () => AsyncIterable<string>
  clear: () => Promise<void>
  /** Live sessions of a user; entries whose session is gone are dropped. */
  listUser: (user: string) => Promise<IndexEntry[]>
  /** Metadata of one session, never its fields; null when it does not exist. */
  meta: (id: string) => Promise<StoredMeta | null>
  /** One page of session ids, at most `limit`, resuming after `cursor`. */
  page: (cursor: string | undefined, limit: number) => Promise<IdPage>
  count: () => Promise<SessionCounts>
  /** Drops index entries whose session is gone or moved to another user. */
  cleanup: () => Promise<IndexCleanupReport>
  putToken: (key: string, value: string, ttlMs: number) => Promise<void>
  takeToken: (key: string) => Promise<string | null>
  close: () => void
}

export interface Meta {
  /** Created, ms since the epoch. */
  c: number
  u?: string
  ip?: string
  ua?: string
}

export function parseMeta (raw: string | null | undefined): Meta | undefined {
  if (raw === null || raw === undefined) return undefined
  try {
    const meta = JSON.parse(raw) as Meta
    return typeof meta === 'object' && meta !== null ? meta : undefined
  } catch {
    return undefined
  }
}
