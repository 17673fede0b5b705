import { test } from 'tap'
import { Redis } from 'ioredis'
import { startCluster, uniquePrefix } from '@redkit/testing'
import { makeApp, sleep } from './helpers.js'

// While the slot of a lock moves to another master, every script of the lock names all its keys in that one slot,
// so Redis answers TRYAGAIN/ASK until the keys are on one side, and the lock works once they are.
test('a lock whose slot is migrating is acquired, extended and released once the slot has moved', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const nodes = cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }))
  t.teardown(() => { for (const n of nodes) n.disconnect() })
  const keyPrefix = uniquePrefix('lock')
  const app = await makeApp({ clusterNodes: cluster.nodes, keyPrefix, env: {} })
  t.teardown(async () => await app.close())

  const first = await app.locks.acquire('mig', { ttl: 60_000 })
  await first.release()
  const keys: string[] = []
  for await (const key of app.redkit.scan(`${app.redkit.escapeGlob(keyPrefix)}*`)) keys.push(key)
  const slot = Number(await nodes[0]!.cluster('KEYSLOT', keys[0]!))
  const ids = await Promise.all(nodes.map(async (n) => String(await n.cluster('MYID'))))
  const owners = await Promise.all(nodes.map(async (n) => Number(await n.cluster('COUNTKEYSINSLOT', slot))))
  const from = owners.findIndex((count) => count > 0)
  const to = (from + 1) % nodes.length
  t.ok(from >= 0, `slot ${slot} holds ${keys.length} keys`)
  await nodes[to]!.cluster('SETSLOT', slot, 'IMPORTING', ids[from]!)
  await nodes[from]!.cluster('SETSLOT', slot, 'MIGRATING', ids[to]!)

  const acquiring = app.locks.acquire('mig', { ttl: 60_000, timeout: 0 })
  await sleep(200)
  const inSlot = await nodes[from]!.cluster('GETKEYSINSLOT', slot, 1000) as string[]
  const target = cluster.nodes[to]!
  await nodes[from]!.call('MIGRATE', target.host, target.port, '', 0, 5000, 'KEYS', ...inSlot)
  for (const n of nodes) await n.cluster('SETSLOT', slot, 'NODE', ids[to]!)

  const lock = await acquiring
  t.ok(lock.token > first.token, 'granted once the slot moved')
  t.equal(await lock.extend(), true)
  t.equal((await app.locks.list()).locks.length, 1)
  t.equal(await lock.release(), true)
  t.equal(await app.locks.count(), 0)
})
