import { COOKIE_FIELD, DATA_PREFIX, META_FIELD, parseMeta, type Meta } from './backend.js'

/**
 * Snapshots by session object: the object get() returned, a session the
 * plugin linked to its load (SessionStore.adopt), and sessions saved
 * earlier in the same request. Kept outside the objects, so a session holds
 * only its own fields: nothing for deep equality, JSON or key walks to see.
 */
export const snapshots = new WeakMap<object, Snapshot>()

const OBJECT = Symbol('object')

export interface FieldState {
  /** JSON as stored. */
  raw: string
  /** The parsed value when it is a primitive (compared by ===), else a marker. */
  value: unknown
}

/** What a session looked like when it was loaded or last saved. */
export class Snapshot {
  constructor (
    readonly id: string,
    readonly fields: Map<string, FieldState>,
    public cookie: string | undefined,
    public meta: Meta | undefined
  ) {}
}

export function isPrimitive (value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function')
}

export function fieldState (raw: string, value: unknown): FieldState {
  return { raw, value: isPrimitive(value) ? value : OBJECT }
}

export interface Decoded {
  data: Record<string, unknown>
  snapshot: Snapshot
}

/** Turns a stored hash into session data plus the snapshot a later save diffs against. */
export function decode (id: string, stored: Record<string, string>): Decoded {
  const data: Record<string, unknown> = {}
  const fields = new Map<string, FieldState>()
  let cookieRaw: string | undefined
  let meta: Meta | undefined
  for (const name in stored) {
    const raw = stored[name]!
    if (name.startsWith(DATA_PREFIX)) {
      const key = name.slice(DATA_PREFIX.length)
      if (key === '__proto__') continue
      const value: unknown = JSON.parse(raw)
      data[key] = value
      fields.set(key, fieldState(raw, value))
    } else if (name === COOKIE_FIELD) {
      cookieRaw = raw
    } else if (name === META_FIELD) {
      meta = parseMeta(raw)
    }
  }
  if (cookieRaw !== undefined) {
    const cookie = JSON.parse(cookieRaw) as Record<string, unknown>
    // maxAge cookies slide: their expiry is not stored (touches move only the
    // key's TTL), so it is reported as a fresh maxAge from now.
    if (typeof cookie.originalMaxAge === 'number') cookie.expires = new Date(Date.now() + cookie.originalMaxAge)
    data.cookie = cookie
  }
  return { data, snapshot: new Snapshot(id, fields, cookieRaw, meta) }
}

interface CookieLike {
  toJSON?: () => Record<string, unknown>
  [key: string]: unknown
}

/**
 * The cookie as stored. For maxAge cookies the expiry moves on every request,
 * so it is left out; the key's TTL carries it, and an unchanged cookie is
 * not rewritten.
 */
export function encodeCookie (cookie: unknown): string | undefined {
  if (cookie === undefined || cookie === null || typeof cookie !== 'object') return undefined
  const c = cookie as CookieLike
  // toJSON returns a fresh object, so it may be trimmed in place.
  const plain = typeof c.toJSON === 'function' ? c.toJSON() : { ...c }
  if (typeof plain.originalMaxAge === 'number') {
    plain.expires = undefined
    plain.originalExpires = undefined
    plain._expires = undefined
  }
  return JSON.stringify(plain)
}

/** Expiry of a session cookie in ms since the epoch, if it has one. */
export function cookieExpiry (cookie: unknown): number | undefined {
  if (cookie === undefined || cookie === null || typeof cookie !== 'object') return undefined
  const expires = (cookie as { expires?: unknown }).expires
  if (expires instanceof Date) return expires.getTime()
  if (typeof expires === 'string' || typeof expires === 'number') {
    const t = new Date(expires).getTime()
    return Number.isFinite(t) ? t : undefined
  }
  return undefined
}
