import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { test } from 'tap'
import { Cluster, Command, Redis } from 'ioredis'
import { startCluster, startRedis } from '@redkit/testing'
import { checkInternals, type IoredisModule } from './ioredis-internals-checks.js'

// The installed ioredis (6): every internal src/ioredis-internals.ts relies on.
test('ioredis internals core relies on, on the installed ioredis', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const root = dirname(createRequire(import.meta.url).resolve('ioredis/package.json'))
  await checkInternals(t, { Redis, Cluster, Command } as unknown as IoredisModule, root, server, cluster.nodes)
})
