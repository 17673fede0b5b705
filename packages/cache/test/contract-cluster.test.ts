import t from 'tap'
import { startCluster } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'
import { assertAllKeysExpire } from './ttl-check.js'

const cluster = await startCluster({ masters: 3 })
t.teardown(cluster.stop)
const target = { kind: 'cluster' as const, nodes: cluster.nodes }

contract(t, target)

t.test('namespaces spread over the masters', async (t) => {
  const app = await makeApp(t, target)
  const admin = cluster.client()
  const masters = new Set<string>()
  for (let i = 0; i < 12; i++) {
    const ns = app.cache.ns(`n${i}`)
    await ns.set('k', i, { tags: ['t'] })
    const key = `${app.redkit.prefix}cache:{n${i}}:e:k`
    const slot = Number(await admin.cluster('KEYSLOT', key))
    const shards = await admin.cluster('SHARDS') as unknown[]
    masters.add(String(shards.findIndex((shard) => {
      const slots = (shard as unknown[])[1] as number[]
      for (let j = 0; j < slots.length; j += 2) if (slot >= slots[j]! && slot <= slots[j + 1]!) return true
      return false
    })))
  }
  t.ok(masters.size > 1, `12 namespaces landed on ${masters.size} masters`)
})

t.test('zero keys without a TTL after the suite', async (t) => {
  await assertAllKeysExpire(t, cluster.client())
})
