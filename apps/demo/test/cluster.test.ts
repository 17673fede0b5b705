import { test } from 'tap'
import { startCluster, uniquePrefix, keysWithoutTtl } from '@redkit/testing'
import { startDemos, type DemoInstance } from './instances.js'
import { integrationSuite } from './scenarios.js'

test('3 demo instances on a 3-master Cluster', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const prefix = uniquePrefix('demo-cluster')
  let demos: DemoInstance[] = []
  t.before(async () => {
    demos = await startDemos(3, { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_KEY_PREFIX: prefix })
  })
  t.teardown(async () => { await Promise.all(demos.map(async (d) => await d.stop())) })

  integrationSuite(t, () => demos, 'cluster')

  t.test('every key the demo wrote has a TTL, on every master', async (t) => {
    t.same(await keysWithoutTtl(cluster.client(), prefix), [])
  })
})
