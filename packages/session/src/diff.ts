import { DATA_PREFIX } from './backend.js'
import { SessionNotSerializableError, SessionTooLargeError } from './errors.js'
import { fieldState, isPrimitive, type FieldState, type Snapshot } from './snapshot.js'

export interface Change {
  key: string
  state: FieldState | undefined
}

export interface FieldDiff {
  /** Hash fields and values to write. */
  set: string[]
  /** Hash fields to delete. */
  del: string[]
  /** What the loaded snapshot must learn once the save lands; empty without a snapshot. */
  changes: Change[]
}

/**
 * The top-level fields of a session that changed since it was loaded (all of
 * them without a snapshot), checked against maxSize over the whole session
 * before anything is written.
 */
export function diffFields (session: object, snapshot: Snapshot | undefined, maxSize: number): FieldDiff {
  const holder = session as Record<string, unknown>
  const set: string[] = []
  const del: string[] = []
  const changes: Change[] = []
  const sizes: string[] = []
  let chars = 0
  const seen = snapshot === undefined ? undefined : new Set<string>()
  for (const key of Object.keys(session)) {
    if (key === 'cookie' || key === '__proto__') continue
    const value = holder[key]
    if (value === undefined || typeof value === 'function') continue
    const before = snapshot?.fields.get(key)
    // Unchanged primitives are not serialised again.
    if (before !== undefined && before.value === value && isPrimitive(value)) {
      seen!.add(key)
      chars += before.raw.length
      sizes.push(before.raw)
      continue
    }
    const raw = serialise(key, value)
    if (raw === undefined) continue
    seen?.add(key)
    chars += raw.length
    sizes.push(raw)
    if (before !== undefined && before.raw === raw) continue
    set.push(DATA_PREFIX + key, raw)
    if (snapshot !== undefined) changes.push({ key, state: fieldState(raw, value) })
  }
  if (snapshot !== undefined) {
    for (const key of snapshot.fields.keys()) {
      if (!seen!.has(key)) {
        del.push(DATA_PREFIX + key)
        changes.push({ key, state: undefined })
      }
    }
  }

  const size = byteSize(sizes, chars, maxSize)
  if (size > maxSize) throw new SessionTooLargeError(size, maxSize)
  return { set, del, changes }
}

/** UTF-8 length, computed only when the cheap bound says it could matter. */
function byteSize (parts: string[], chars: number, max: number): number {
  if (chars * 3 <= max) return chars
  return parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0)
}

function serialise (key: string, value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch (err) {
    throw new SessionNotSerializableError(key, (err as Error).message)
  }
}
