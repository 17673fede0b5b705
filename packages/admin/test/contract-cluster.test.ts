import t from 'tap'
import { Redis, type Cluster } from 'ioredis'
import { startCluster, uniquePrefix } from '@redkit/testing'
import { runContract } from './contract.js'

const PASSWORD = 'admin-cluster-Pa55word-y7'
const cluster = await startCluster({ masters: 3, password: PASSWORD })
t.teardown(cluster.stop)
let client: Cluster | undefined
const masters: Redis[] = []
t.teardown(() => { for (const m of masters) m.disconnect() })

runContract({
  name: 'cluster',
  core: () => ({ clusterNodes: cluster.nodes, password: PASSWORD, keyPrefix: uniquePrefix('admin'), env: {} }),
  client: () => {
    client ??= cluster.client()
    return client
  },
  masters: () => {
    if (masters.length === 0) {
      for (const server of cluster.servers) {
        const m = server.client()
        masters.push(m)
      }
    }
    return masters
  },
  password: PASSWORD
})
