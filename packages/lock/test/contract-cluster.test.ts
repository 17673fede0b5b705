import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { keysWithoutTtl, startCluster, uniquePrefix } from '@redkit/testing'
import { contract } from './contract.js'
import { Redis } from 'ioredis'
import { makeApp } from './helpers.js'
import { resubscribe, SLOW } from './resubscribe.js'

test('3-master Cluster', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const admin = cluster.client()
  const prefixes: string[] = []

  const rewindCounters = async (app: FastifyInstance, by: number): Promise<number> => {
    let n = 0
    for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) {
      await admin.decrby(key, by)
      n++
    }
    return n
  }

  const dropCounters = async (app: FastifyInstance): Promise<number> => {
    let n = 0
    for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) n += await admin.del(key)
    return n
  }

  t.test('keys of one lock share a slot', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ clusterNodes: cluster.nodes, keyPrefix, env: {} })
    t.teardown(async () => await app.close())
    const held = await app.locks.acquire('slot')
    const waiting = app.locks.acquire('slot', { timeout: 2000 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Every key under this prefix belongs to the one lock: its holder, fence, queue, waiters and its shard's registry.
    const keys: string[] = []
    for await (const key of app.redkit.scan(`${app.redkit.escapeGlob(keyPrefix)}*`)) keys.push(key)
    t.equal(keys.length, 5, keys.join(' '))
    t.ok(keys.some((k) => k.endsWith(':registry')), 'the registry is one of them')
    const slots = new Set(await Promise.all(keys.map(async (k) => await admin.cluster('KEYSLOT', k))))
    t.equal(slots.size, 1)
    await held.release()
    await (await waiting).release()
  })

  t.test('the wake-up subscription is retried until it works, and waiters are woken again', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const nodes = cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }))
    t.teardown(() => { for (const n of nodes) n.disconnect() })
    await resubscribe(t, {
      nodes,
      app: async (user) => await makeApp({ clusterNodes: cluster.nodes, keyPrefix, env: {}, username: user, password: 'pw' }, SLOW)
    })
  })

  contract(t, {
    label: 'cluster',
    setup: async (t, instances = 1, lock = {}) => {
      const keyPrefix = uniquePrefix('lock')
      prefixes.push(keyPrefix)
      const apps = await Promise.all(Array.from({ length: instances }, async () => await makeApp({ clusterNodes: cluster.nodes, keyPrefix, env: {} }, lock)))
      t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })
      return { apps }
    },
    dropCounters,
    rewindCounters,
    keysWithoutTtl: async () => (await Promise.all(prefixes.map(async (prefix) => await keysWithoutTtl(admin, prefix)))).flat()
  })
})
