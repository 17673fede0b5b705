import type { Cluster, Redis } from 'ioredis'
import type { Test } from 'tap'
import { PREFIX_LABEL } from './helpers.js'

/** Asserts that every key the suite wrote under its test prefixes has a TTL. */
export async function assertAllKeysExpire (t: Test, admin: Redis | Cluster): Promise<void> {
  if (admin.status !== 'ready') await new Promise((resolve) => admin.once('ready', resolve))
  const nodes = 'nodes' in admin && typeof admin.nodes === 'function' ? (admin as Cluster).nodes('master') : [admin as Redis]
  let checked = 0
  const withoutTtl: string[] = []
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `redkit-test:${PREFIX_LABEL}:*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        checked++
        if (await node.pttl(key) < 0) withoutTtl.push(key)
      }
    } while (cursor !== '0')
  }
  t.same(withoutTtl, [], `all ${checked} keys left by the suite have a TTL`)
  t.ok(checked > 0, 'the check saw keys')
}
