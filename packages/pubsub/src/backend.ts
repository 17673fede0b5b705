/**
 * Receives every message the subscriber connection gets: route is the
 * subscribed channel or pattern, and `pattern` tells which, since the same
 * text can be subscribed both ways at once.
 */
export type MessageSink = (route: string, channel: string, payload: string, pattern: boolean) => void

export interface StreamEntry {
  id: string
  /** Null when the entry was trimmed away while still pending. */
  payload: string | null
}

export interface ClaimResult {
  cursor: string
  entries: StreamEntry[]
  /** Pending ids whose entries no longer exist. */
  deleted: string[]
}

/** A connection that may block on reads; one per stream consumer. */
export interface StreamReader {
  readGroup: (key: string, group: string, consumer: string, count: number, blockMs: number, id: string) => Promise<StreamEntry[]>
  close: () => Promise<void>
}

/** The two backends (memory and Redis) implement this. */
export interface Transport {
  readonly kind: 'memory' | 'redis' | 'cluster'
  readonly sharded: boolean
  /** Resolves to the number of receiving connections. */
  publish: (channel: string, payload: string) => Promise<number>
  subscribe: (channel: string) => Promise<void>
  unsubscribe: (channel: string) => Promise<void>
  psubscribe: (pattern: string) => Promise<void>
  punsubscribe: (pattern: string) => Promise<void>
  add: (key: string, payload: string, maxLen: number, ttlMs: number) => Promise<string>
  ensureGroup: (key: string, group: string, start: string, ttlMs: number) => Promise<void>
  range: (key: string, after: string | undefined, count: number) => Promise<StreamEntry[]>
  ack: (key: string, group: string, ids: string[]) => Promise<number>
  autoclaim: (key: string, group: string, consumer: string, minIdleMs: number, cursor: string, count: number) => Promise<ClaimResult>
  /** Marks a consumer name as in use by `token`; resolves to the previous holder when it was another token. */
  markConsumer: (key: string, token: string, ttlMs: number) => Promise<string | null>
  unmarkConsumer: (key: string, token: string) => Promise<void>
  reader: () => StreamReader
  close: () => Promise<void>
}

/** Orders stream ids ("ms-seq"). */
export function compareIds (a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  const ms = Number(am) - Number(bm)
  if (ms !== 0) return ms
  return Number(as) - Number(bs)
}

/** Redis glob (*, ?, [...], backslash escapes) as a RegExp, for the memory backend. */
export function globToRegExp (pattern: string): RegExp {
  let out = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\' && i + 1 < pattern.length) {
      out += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    } else if (c === '*') {
      out += '[\\s\\S]*'
    } else if (c === '?') {
      out += '[\\s\\S]'
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end === -1) {
        out += '\\['
      } else {
        let body = pattern.slice(i + 1, end)
        const negate = body.startsWith('^')
        if (negate) body = body.slice(1)
        out += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`
        i = end
      }
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    }
  }
  return new RegExp(out + '$')
}
