/**
 * A stored entry: "<freshUntil ms>:<stamp>\n<payload>", where the stamp is
 * empty for an untagged entry or the JSON object { tag: version } of the
 * tag versions current when it was written. An entry is served only while
 * each of its tags is still at that version; JSON escapes newlines, so the
 * first "\n" always ends the stamp.
 */
export interface Entry {
  freshUntil: number
  stamp: Record<string, number> | null
  payload: string
}

export function formatEntry (freshUntil: number, stamp: Record<string, number> | null, payload: string): string {
  return `${Math.floor(freshUntil)}:${stamp === null ? '' : JSON.stringify(stamp)}\n${payload}`
}

/** The entry, or null for anything not in this form (such as an entry written by an older version). */
export function parseEntry (raw: string): Entry | null {
  const colon = raw.indexOf(':')
  const newline = raw.indexOf('\n', colon)
  if (colon <= 0 || newline < 0) return null
  const freshUntil = Number(raw.slice(0, colon))
  if (!Number.isFinite(freshUntil)) return null
  const payload = raw.slice(newline + 1)
  if (newline === colon + 1) return { freshUntil, stamp: null, payload }
  try {
    const stamp = JSON.parse(raw.slice(colon + 1, newline)) as unknown
    if (typeof stamp !== 'object' || stamp === null || Array.isArray(stamp)) return null
    return { freshUntil, stamp: stamp as Record<string, number>, payload }
  } catch {
    return null
  }
}

/** True when every tag of the entry is still at the version it recorded. */
export function stampCurrent (stamp: Record<string, number>, names: string[], versions: number[]): boolean {
  return names.every((name, i) => stamp[name] === versions[i])
}
