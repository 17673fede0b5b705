import { randomBytes } from 'node:crypto'
import { Cluster, type Redis } from 'ioredis'

async function * keysUnder (client: Redis | Cluster, prefix: string): AsyncGenerator<[Redis, string]> {
  const literal = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
  if (client instanceof Cluster && client.status !== 'ready') {
    await new Promise<void>((resolve) => client.once('ready', () => resolve()))
  }
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${literal}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) yield [node, key]
    } while (cursor !== '0')
  }
}

/**
 * Lists keys under a prefix that have no TTL, on every master of a Cluster.
 * The prefix is matched literally; a key that expires meanwhile is not listed.
 */
export async function keysWithoutTtl (client: Redis | Cluster, prefix: string): Promise<string[]> {
  const missing: string[] = []
  for await (const [node, key] of keysUnder(client, prefix)) {
    if (await node.pttl(key) === -1) missing.push(key)
  }
  return missing
}

/** Counts keys under a prefix (matched literally), on every master of a Cluster. */
export async function countKeys (client: Redis | Cluster, prefix: string): Promise<number> {
  const keys = new Set<string>()
  // SCAN may return a key twice; a set counts it once.
  for await (const [, key] of keysUnder(client, prefix)) keys.add(key)
  return keys.size
}

/** A key prefix no other test shares, so suites can run against one server. */
export function uniquePrefix (label = 't'): string {
  return `redkit-test:${label}:${randomBytes(4).toString('hex')}:`
}
