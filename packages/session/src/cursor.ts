import { SESSION_ID } from './backend.js'
import { SessionInvalidCursorError } from './errors.js'

/** Largest page of `app.sessions.list()`. */
export const MAX_LIST_LIMIT = 1000
export const DEFAULT_LIST_LIMIT = 100
/**
 * Longest cursor accepted. encodeCursor writes one expiry and one id of at
 * most 128 characters: under 250 characters, whatever the number of
 * sessions or the page size.
 */
export const MAX_CURSOR_LENGTH = 512
/** Latest expiry a cursor may name (about the year 33658). */
const MAX_SCORE = 1e15

/**
 * Where a listing stopped. On Redis: the expiry and id of the last entry
 * returned (the registry is ordered by expiry, then id). In memory: the
 * last id returned (ids are listed in sorted order).
 */
export type Cursor =
  | { kind: 'redis', score: number, id: string }
  | { kind: 'memory', after: string }

interface Wire {
  s?: unknown
  i?: unknown
  a?: unknown
}

export function encodeCursor (cursor: Cursor): string {
  const wire: Wire = cursor.kind === 'memory' ? { a: cursor.after } : { s: cursor.score, i: cursor.id }
  return Buffer.from(JSON.stringify(wire)).toString('base64url')
}

/**
 * Decodes a cursor, accepting only the exact shapes encodeCursor writes, so
 * a forged one can carry neither a pattern nor a long payload.
 */
export function decodeCursor (text: unknown): Cursor {
  if (typeof text !== 'string' || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new SessionInvalidCursorError()
  }
  let wire: Wire
  try {
    wire = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Wire
  } catch {
    throw new SessionInvalidCursorError()
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new SessionInvalidCursorError()
  const keys = Object.keys(wire)
  if (typeof wire.a === 'string') {
    if (!SESSION_ID.test(wire.a) || keys.length !== 1) throw new SessionInvalidCursorError()
    return { kind: 'memory', after: wire.a }
  }
  const { s, i } = wire
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_SCORE) throw new SessionInvalidCursorError()
  if (typeof i !== 'string' || !SESSION_ID.test(i) || keys.length !== 2) throw new SessionInvalidCursorError()
  return { kind: 'redis', score: s, id: i }
}
