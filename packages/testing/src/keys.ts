import { Cluster, type Redis } from 'ioredis'

/**
 * Lists keys under a prefix that have no TTL, on every master of a Cluster.
 * The prefix is matched literally.
 */
export async function keysWithoutTtl (client: Redis | Cluster, prefix: string): Promise<string[]> {
  const literal = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
  if (client instanceof Cluster && client.status !== 'ready') {
    await new Promise<void>((resolve) => client.once('ready', () => resolve()))
  }
  const nodes = client instanceof Cluster ? client.nodes('master') : [client]
  const missing: string[] = []
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${literal}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        if (await node.pttl(key) === -1) missing.push(key)
      }
    } while (cursor !== '0')
  }
  return missing
}
