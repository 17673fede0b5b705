import type { Redkit, RedisClient, RedkitScript } from '@redkit/core'
import { defineLua } from '@redkit/core/kit'
import type { Cluster, Redis } from 'ioredis'
import type { ClaimResult, StreamEntry, StreamReader, Transport } from './backend.js'
import { SCRIPTS } from './lua.js'
import { clusterSubscriber, shardedSubscriber, standaloneSubscriber, type Subscriber, type SubscriberHooks } from './subscriber.js'

/**
 * The node a classic PUBLISH of a channel goes to on Cluster. A PUBLISH has no
 * key, so ioredis would pick a random node each time, and messages relayed
 * over the cluster bus from different nodes can overtake each other: one
 * node per channel keeps a publisher's messages in order.
 */
function publishNode (cluster: Cluster, channel: string): Cluster | Redis {
  const nodes = cluster.nodes('master')
  if (nodes.length === 0) return cluster
  let hash = 0
  for (let i = 0; i < channel.length; i++) hash = (hash * 31 + channel.charCodeAt(i)) | 0
  return nodes[Math.abs(hash) % nodes.length]!
}

type RawEntry = [string, string[] | null]

function entries (raw: RawEntry[] | null | undefined): StreamEntry[] {
  if (raw == null) return []
  return raw.map(([id, fields]) => {
    if (fields == null) return { id, payload: null }
    const at = fields.indexOf('m')
    return { id, payload: at >= 0 ? (fields[at + 1] ?? null) : null }
  })
}

/**
 * XREADGROUP replies [[key, entries]] over RESP2, and a map over RESP3, which
 * ioredis hands back flattened as [key, entries].
 */
function streamEntries (reply: unknown[] | null): RawEntry[] | null {
  if (reply == null || reply.length === 0) return null
  const first = reply[0]
  return (Array.isArray(first) ? first[1] : reply[1]) as RawEntry[] | null
}

/**
 * Redis backend. Publishing uses the app connection; subscribing uses one
 * extra connection made on first use (see subscriber.ts for how it survives
 * drops). On Cluster with `sharded`, channels go through SPUBLISH/SSUBSCRIBE
 * so each message stays on the shard that owns it.
 */
export class RedisTransport implements Transport {
  readonly kind: 'redis' | 'cluster'
  readonly sharded: boolean
  private sub: RedisClient | undefined
  private subscriber: Subscriber | undefined
  private readonly channels = new Set<string>()
  private readonly patterns = new Set<string>()
  private readonly addScript: RedkitScript<string>
  private readonly groupScript: RedkitScript<number>
  private readonly markScript: RedkitScript<string | null>
  private readonly unmarkScript: RedkitScript<number>
  private readonly client: RedisClient

  constructor (private readonly redkit: Redkit, sharded: boolean, private readonly hooks: Omit<SubscriberHooks, 'channels' | 'patterns'>) {
    this.client = redkit.client!
    this.kind = redkit.isCluster ? 'cluster' : 'redis'
    this.sharded = redkit.isCluster && sharded
    this.addScript = defineLua(redkit, SCRIPTS.streamAdd)
    this.groupScript = defineLua(redkit, SCRIPTS.streamGroup)
    this.markScript = defineLua(redkit, SCRIPTS.consumerMark)
    this.unmarkScript = defineLua(redkit, SCRIPTS.consumerUnmark)
  }

  private connection (): RedisClient {
    if (this.subscriber !== undefined) return this.subscriber.connection
    if (this.sub !== undefined) return this.sub
    const hooks = { ...this.hooks, channels: this.channels, patterns: this.patterns }
    if (this.sharded) {
      this.sub = shardedSubscriber(this.redkit, hooks)
      return this.sub
    }
    this.subscriber = this.redkit.isCluster ? clusterSubscriber(this.client as Cluster, hooks) : standaloneSubscriber(this.redkit, hooks)
    return this.subscriber.connection
  }

  publish (channel: string, payload: string): Promise<number> {
    if (this.sharded) return (this.client as Cluster).spublish(channel, payload) as Promise<number>
    const conn = this.redkit.isCluster ? publishNode(this.client as Cluster, channel) : this.client
    return conn.publish(channel, payload)
  }

  async subscribe (channel: string): Promise<void> {
    this.channels.add(channel)
    const sub = this.connection()
    if (this.sharded) await (sub as Cluster).ssubscribe(channel)
    else await sub.subscribe(channel)
  }

  async unsubscribe (channel: string): Promise<void> {
    this.channels.delete(channel)
    const sub = this.connection()
    if (this.sharded) await (sub as Cluster).sunsubscribe(channel)
    else await sub.unsubscribe(channel)
  }

  async psubscribe (pattern: string): Promise<void> {
    this.patterns.add(pattern)
    await this.connection().psubscribe(pattern)
  }

  async punsubscribe (pattern: string): Promise<void> {
    this.patterns.delete(pattern)
    await this.connection().punsubscribe(pattern)
  }

  async add (key: string, payload: string, maxLen: number, ttlMs: number): Promise<string> {
    return await this.addScript([key], [maxLen, payload, ttlMs])
  }

  async ensureGroup (key: string, group: string, start: string, ttlMs: number): Promise<void> {
    await this.groupScript([key], [group, start, ttlMs])
  }

  async range (key: string, after: string | undefined, count: number): Promise<StreamEntry[]> {
    const raw = await this.client.call('XRANGE', key, after === undefined ? '-' : `(${after}`, '+', 'COUNT', count) as RawEntry[]
    return entries(raw)
  }

  async ack (key: string, group: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0
    return Number(await this.client.call('XACK', key, group, ...ids))
  }

  async autoclaim (key: string, group: string, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<ClaimResult> {
    const [next, raw, deleted] = await this.client.call('XAUTOCLAIM', key, group, consumer, minIdleMs, cursor, 'COUNT', count) as
      [string, RawEntry[], string[] | undefined]
    return { cursor: next, entries: entries(raw), deleted: deleted ?? [] }
  }

  async markConsumer (key: string, token: string, ttlMs: number): Promise<string | null> {
    return await this.markScript([key], [token, ttlMs]) ?? null
  }

  async unmarkConsumer (key: string, token: string): Promise<void> {
    await this.unmarkScript([key], [token])
  }

  reader (): StreamReader {
    // Blocking reads get their own connection so they never delay other commands.
    const conn = this.redkit.duplicate()
    return {
      readGroup: async (key, group, consumer, count, blockMs, id) => {
        const args: Array<string | number> = ['GROUP', group, consumer, 'COUNT', count]
        if (id === '>') args.push('BLOCK', blockMs)
        args.push('STREAMS', key, id)
        const reply = await conn.call('XREADGROUP', ...args) as unknown[] | null
        return entries(streamEntries(reply))
      },
      close: async () => { conn.disconnect() }
    }
  }

  async close (): Promise<void> {
    this.channels.clear()
    this.patterns.clear()
    // A core duplicate is also closed with the app; a Cluster node copy is only closed here.
    this.subscriber?.close()
  }
}
