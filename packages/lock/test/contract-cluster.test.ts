import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { Redis } from 'ioredis'
import { hashTag } from '@redkit/core'
import { contract } from './contract.js'
import { appsOn, makeApp } from './helpers.js'
import { resubscribe, SLOW } from './resubscribe.js'
import { tiedPaging } from './tied.js'

test('3-master Cluster', async (t) => {
  const target = await useTarget(t, 'cluster')

  t.test('keys of one lock share a slot', async (t) => {
    const { apps: [app], keyPrefix } = await appsOn(t, target)
    const held = await app!.locks.acquire('slot')
    const waiting = app!.locks.acquire('slot', { timeout: 2000 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Every key under this prefix belongs to the one lock: its holder, fence, queue, waiters and its shard's registry.
    const keys: string[] = []
    for await (const key of app!.redkit.scan(`${app!.redkit.escapeGlob(keyPrefix)}*`)) keys.push(key)
    t.equal(keys.length, 5, keys.join(' '))
    t.ok(keys.some((k) => k.endsWith(':registry')), 'the registry is one of them')
    const slots = new Set(await Promise.all(keys.map(async (k) => await target.admin.cluster('KEYSLOT', k))))
    t.equal(slots.size, 1)
    await held.release()
    await (await waiting).release()
  })

  t.test('entries ending at the same time page fully and each once, across shards', async (t) => {
    const { apps: [app], keyPrefix } = await appsOn(t, target)
    const registry = (shard: number): string => `${keyPrefix}lock:${hashTag(`${keyPrefix}lock:${shard}`)}:registry`
    await tiedPaging(t, app!, target.admin, [0, 5, 15].map((shard) => [shard, registry(shard)]))
  })

  t.test('the wake-up subscription is retried until it works, and waiters are woken again', async (t) => {
    const keyPrefix = target.prefix('lock')
    const nodes = target.cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }))
    t.teardown(() => { for (const n of nodes) n.disconnect() })
    await resubscribe(t, {
      nodes,
      app: async (user) => await makeApp({ ...target.core, keyPrefix, username: user, password: 'pw' }, SLOW)
    })
  })

  contract(t, target)
})
