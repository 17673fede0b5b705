import { test } from 'tap'
import { startCluster, uniquePrefix } from '@redkit/testing'
import { contract, type Factory } from './contract.js'
import { storeContract } from './store-contract.js'
import { registryContract } from './registry-contract.js'
import { freshContract } from './fresh-contract.js'
import { buildApp, keysWithoutTtl } from './helpers.js'

test('3-master Cluster', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const admin = cluster.client()
  const prefixes: string[] = []
  const make: Factory = async (t, session) => {
    const prefix = uniquePrefix('sess-cluster')
    prefixes.push(prefix)
    const handle = await buildApp(t, { clusterNodes: cluster.nodes, keyPrefix: prefix }, session)
    return { handle, redis: admin, prefix }
  }
  contract(t, make)
  storeContract(t, make)
  registryContract(t, make)
  freshContract(t, make)

  t.test('zero keys without a TTL under the test prefixes', async (t) => {
    for (const prefix of prefixes) t.same(await keysWithoutTtl(admin, prefix), [], prefix)
  })
})
