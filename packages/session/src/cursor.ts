import { SESSION_ID } from './backend.js'
import { SessionInvalidCursorError } from './errors.js'

/** Largest page of `app.sessions.list()`. */
export const MAX_LIST_LIMIT = 1000
export const DEFAULT_LIST_LIMIT = 100
/** Ids carried over to the next page; a page never scans more than a few hundred past its limit. */
const MAX_PENDING = MAX_LIST_LIMIT
/** Base64url of the largest cursor encodeCursor writes (MAX_PENDING ids of 128 characters). */
export const MAX_CURSOR_LENGTH = 200_000

/**
 * Where a listing stopped. On Redis: the master's index (masters sorted by
 * address), its SCAN cursor, and ids already scanned that did not fit in the
 * page. In memory: the last id returned (ids are listed in sorted order).
 */
export type Cursor =
  | { kind: 'redis', node: number, scan: string, pending: string[] }
  | { kind: 'memory', after: string }

interface Wire {
  n?: unknown
  c?: unknown
  p?: unknown
  a?: unknown
}

export function encodeCursor (cursor: Cursor): string {
  const wire: Wire = cursor.kind === 'memory'
    ? { a: cursor.after }
    : { n: cursor.node, c: cursor.scan, ...(cursor.pending.length > 0 ? { p: cursor.pending } : {}) }
  return Buffer.from(JSON.stringify(wire)).toString('base64url')
}

/**
 * Decodes a cursor, accepting only the exact shapes encodeCursor writes, so
 * a forged one can neither carry a pattern nor point past the last master.
 */
export function decodeCursor (text: unknown, nodeCount: number): Cursor {
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
  if (typeof wire.a === 'string') {
    if (!SESSION_ID.test(wire.a) || Object.keys(wire).length !== 1) throw new SessionInvalidCursorError()
    return { kind: 'memory', after: wire.a }
  }
  const { n, c, p } = wire
  // n equals nodeCount once every master is scanned and only pending ids remain.
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > nodeCount) throw new SessionInvalidCursorError()
  if (typeof c !== 'string' || !/^\d{1,20}$/.test(c)) throw new SessionInvalidCursorError()
  const pending = p === undefined ? [] : p
  if (!Array.isArray(pending) || pending.length > MAX_PENDING ||
      !pending.every((id): id is string => typeof id === 'string' && SESSION_ID.test(id))) {
    throw new SessionInvalidCursorError()
  }
  if (n === nodeCount && pending.length === 0) throw new SessionInvalidCursorError()
  if (Object.keys(wire).some((key) => key !== 'n' && key !== 'c' && key !== 'p')) throw new SessionInvalidCursorError()
  return { kind: 'redis', node: n, scan: c, pending }
}
