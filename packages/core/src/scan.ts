import { Cluster, type Redis } from 'ioredis'
import type { RedisClient } from './connection.js'

export interface ScanOptions {
  /** Hint for how many keys each SCAN call looks at. */
  count?: number
  /** Only keys of this Redis type (string, hash, zset, …). */
  type?: string
}

async function * scanNode (node: Redis, match: string, opts: ScanOptions): AsyncGenerator<string> {
  let cursor = '0'
  do {
    const args: Array<string | number> = [cursor, 'MATCH', match, 'COUNT', opts.count ?? 250]
    if (opts.type !== undefined) args.push('TYPE', opts.type)
    const [next, keys] = await node.call('SCAN', ...args) as [string, string[]]
    cursor = next
    yield * keys
  } while (cursor !== '0')
}

/**
 * Iterates keys matching a pattern with SCAN, on every master of a Cluster.
 * Like SCAN itself, a key may be yielded twice if the keyspace changes meanwhile.
 */
export async function * scanKeys (client: RedisClient, match: string, opts: ScanOptions = {}): AsyncGenerator<string> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  for (const node of nodes) yield * scanNode(node, match, opts)
}
