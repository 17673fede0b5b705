import { AdminInvalidCursorError } from './errors.js'
import { MAX_PAGE_SIZE } from './options.js'

/** Session ids as @redkit/session issues them; nothing else is ever looked up. */
export const SESSION_ID = /^[A-Za-z0-9_-]{8,128}$/

/**
 * Where a listing stopped. On Redis: the master's index (masters sorted by
 * address), its SCAN cursor, and ids already scanned that did not fit in the
 * page. In memory mode: the last id returned.
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

/** Decodes a cursor, accepting only the exact shapes encodeCursor writes. */
export function decodeCursor (text: string, nodeCount: number): Cursor {
  if (!/^[A-Za-z0-9_-]{1,200000}$/.test(text)) throw new AdminInvalidCursorError()
  let wire: Wire
  try {
    wire = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Wire
  } catch {
    throw new AdminInvalidCursorError()
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new AdminInvalidCursorError()
  if (typeof wire.a === 'string') {
    if (!SESSION_ID.test(wire.a) || Object.keys(wire).length !== 1) throw new AdminInvalidCursorError()
    return { kind: 'memory', after: wire.a }
  }
  const { n, c, p } = wire
  // n equals nodeCount once every master is scanned and only pending ids remain.
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > nodeCount) throw new AdminInvalidCursorError()
  if (typeof c !== 'string' || !/^\d{1,20}$/.test(c)) throw new AdminInvalidCursorError()
  const pending = p === undefined ? [] : p
  if (!Array.isArray(pending) || pending.length > MAX_PAGE_SIZE ||
      !pending.every((id): id is string => typeof id === 'string' && SESSION_ID.test(id))) {
    throw new AdminInvalidCursorError()
  }
  if (n === nodeCount && pending.length === 0) throw new AdminInvalidCursorError()
  return { kind: 'redis', node: n, scan: c, pending }
}
