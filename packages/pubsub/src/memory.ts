import { compareIds, globToRegExp, type ClaimResult, type MessageSink, type StreamEntry, type StreamReader, type Transport } from './backend.js'

interface Pending {
  consumer: string
  deliveredAt: number
}

interface Group {
  lastId: string
  pending: Map<string, Pending>
}

interface MemoryStream {
  entries: StreamEntry[]
  lastMs: number
  lastSeq: number
  groups: Map<string, Group>
  waiters: Set<() => void>
  expiresAt: number
}

/** The embedded backend: one process, same semantics as the Redis one. */
export class MemoryTransport implements Transport {
  readonly kind = 'memory'
  readonly sharded = false
  private readonly channels = new Set<string>()
  private readonly patterns = new Map<string, RegExp>()
  private readonly streams = new Map<string, MemoryStream>()
  private readonly marks = new Map<string, { token: string, expiresAt: number }>()
  private closed = false

  constructor (private readonly sink: MessageSink) {}

  async publish (channel: string, payload: string): Promise<number> {
    const patterns: string[] = []
    const literal = this.channels.has(channel)
    for (const [pattern, re] of this.patterns) {
      if (re.test(channel)) patterns.push(pattern)
    }
    // Delivered after the publisher's await, like a message coming back from a server.
    if (literal || patterns.length > 0) {
      queueMicrotask(() => {
        if (literal) this.sink(channel, channel, payload, false)
        for (const pattern of patterns) this.sink(pattern, channel, payload, true)
      })
    }
    return patterns.length + (literal ? 1 : 0)
  }

  async subscribe (channel: string): Promise<void> { this.channels.add(channel) }
  async unsubscribe (channel: string): Promise<void> { this.channels.delete(channel) }
  async psubscribe (pattern: string): Promise<void> { this.patterns.set(pattern, globToRegExp(pattern)) }
  async punsubscribe (pattern: string): Promise<void> { this.patterns.delete(pattern) }

  private stream (key: string, create: boolean): MemoryStream | undefined {
    let stream = this.streams.get(key)
    if (stream !== undefined && stream.expiresAt <= Date.now()) {
      this.streams.delete(key)
      stream = undefined
    }
    if (stream === undefined && create) {
      stream = { entries: [], lastMs: 0, lastSeq: 0, groups: new Map(), waiters: new Set(), expiresAt: Infinity }
      this.streams.set(key, stream)
    }
    return stream
  }

  async add (key: string, payload: string, maxLen: number, ttlMs: number): Promise<string> {
    const stream = this.stream(key, true)!
    const now = Date.now()
    if (now > stream.lastMs) {
      stream.lastMs = now
      stream.lastSeq = 0
    } else {
      stream.lastSeq++
    }
    const id = `${stream.lastMs}-${stream.lastSeq}`
    stream.entries.push({ id, payload })
    if (stream.entries.length > maxLen) stream.entries.splice(0, stream.entries.length - maxLen)
    stream.expiresAt = now + ttlMs
    for (const wake of stream.waiters) wake()
    stream.waiters.clear()
    return id
  }

  async ensureGroup (key: string, group: string, start: string, ttlMs: number): Promise<void> {
    const stream = this.stream(key, true)!
    if (stream.expiresAt === Infinity) stream.expiresAt = Date.now() + ttlMs
    if (stream.groups.has(group)) return
    const lastId = start === '$' ? (stream.entries.at(-1)?.id ?? `${stream.lastMs}-${stream.lastSeq}`) : start
    stream.groups.set(group, { lastId, pending: new Map() })
  }

  async range (key: string, after: string | undefined, count: number): Promise<StreamEntry[]> {
    const entries = this.stream(key, false)?.entries ?? []
    const out: StreamEntry[] = []
    for (const entry of entries) {
      if (after !== undefined && compareIds(entry.id, after) <= 0) continue
      out.push(entry)
      if (out.length >= count) break
    }
    return out
  }

  async ack (key: string, group: string, ids: string[]): Promise<number> {
    const pending = this.stream(key, false)?.groups.get(group)?.pending
    if (pending === undefined) return 0
    let n = 0
    for (const id of ids) if (pending.delete(id)) n++
    return n
  }

  async autoclaim (key: string, groupName: string, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<ClaimResult> {
    const stream = this.stream(key, false)
    const group = stream?.groups.get(groupName)
    if (stream === undefined || group === undefined) return { cursor: '0-0', entries: [], deleted: [] }
    const now = Date.now()
    const ids = [...group.pending.keys()].filter((id) => compareIds(id, cursor) >= 0).sort(compareIds)
    const entries: StreamEntry[] = []
    const deleted: string[] = []
    for (const id of ids) {
      const p = group.pending.get(id)!
      if (now - p.deliveredAt < minIdleMs) continue
      const entry = stream.entries.find((e) => e.id === id)
      if (entry === undefined) {
        group.pending.delete(id)
        deleted.push(id)
        continue
      }
      group.pending.set(id, { consumer, deliveredAt: now })
      entries.push(entry)
      if (entries.length >= count) {
        const next = ids[ids.indexOf(id) + 1]
        return { cursor: next ?? '0-0', entries, deleted }
      }
    }
    return { cursor: '0-0', entries, deleted }
  }

  async markConsumer (key: string, token: string, ttlMs: number): Promise<string | null> {
    const mark = this.marks.get(key)
    const holder = mark !== undefined && mark.expiresAt > Date.now() ? mark.token : null
    this.marks.set(key, { token, expiresAt: Date.now() + ttlMs })
    return holder !== token ? holder : null
  }

  async unmarkConsumer (key: string, token: string): Promise<void> {
    if (this.marks.get(key)?.token === token) this.marks.delete(key)
  }

  private readNow (key: string, groupName: string, consumer: string, count: number, id: string): StreamEntry[] | undefined {
    const stream = this.stream(key, false)
    const group = stream?.groups.get(groupName)
    if (stream === undefined || group === undefined) throw new Error(`NOGROUP No such key '${key}' or consumer group '${groupName}'`)
    if (id !== '>') {
      // Re-read this consumer's own pending entries, as XREADGROUP with an id does.
      return [...group.pending.entries()]
        .filter(([pid, p]) => p.consumer === consumer && compareIds(pid, id) > 0)
        .map(([pid]) => stream.entries.find((e) => e.id === pid) ?? { id: pid, payload: null })
        .sort((a, b) => compareIds(a.id, b.id))
        .slice(0, count)
    }
    const fresh = stream.entries.filter((e) => compareIds(e.id, group.lastId) > 0).slice(0, count)
    if (fresh.length === 0) return undefined
    const now = Date.now()
    for (const entry of fresh) group.pending.set(entry.id, { consumer, deliveredAt: now })
    group.lastId = fresh.at(-1)!.id
    return fresh
  }

  reader (): StreamReader {
    let stopped = false
    let wakeReader: (() => void) | undefined
    return {
      readGroup: async (key, group, consumer, count, blockMs, id) => {
        const now = this.readNow(key, group, consumer, count, id)
        if (now !== undefined || stopped) return now ?? []
        const stream = this.stream(key, false)!
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, blockMs)
          function done (): void {
            clearTimeout(timer)
            stream.waiters.delete(done)
            wakeReader = undefined
            resolve()
          }
          stream.waiters.add(done)
          wakeReader = done
        })
        if (stopped || this.closed) return []
        return this.readNow(key, group, consumer, count, id) ?? []
      },
      close: async () => {
        stopped = true
        wakeReader?.()
      }
    }
  }

  async close (): Promise<void> {
    this.closed = true
    for (const stream of this.streams.values()) {
      for (const wake of stream.waiters) wake()
    }
    this.channels.clear()
    this.patterns.clear()
  }
}
