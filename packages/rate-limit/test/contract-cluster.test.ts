import { test } from 'tap'
import { startCluster, uniquePrefix, type RedisCluster } from '@redkit/testing'
import { contract } from './contract.js'

let cluster: RedisCluster
test('start cluster', async () => { cluster = await startCluster({ masters: 3 }) })
contract({
  name: 'cluster',
  core: (prefix = uniquePrefix('rl-cluster')) => ({ clusterNodes: cluster.nodes, keyPrefix: prefix, env: {} }),
  admin: () => cluster.client()
})
test('stop cluster', async () => { await cluster.stop() })
