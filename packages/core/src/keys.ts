/** Escapes glob characters so a SCAN MATCH pattern matches the text literally. */
export function escapeGlob (text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

/** Joins key parts under the app prefix. */
export function joinKey (prefix: string, parts: Array<string | number>): string {
  return prefix + parts.join(':')
}

/**
 * Wraps a value in a hash tag, so that every key built with it lands in one
 * Cluster slot. Braces inside the value would end the tag early, so they are
 * replaced.
 */
export function hashTag (value: string): string {
  return `{${value.replace(/[{}]/g, '_')}}`
}
