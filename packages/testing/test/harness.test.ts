import { test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis, startCluster, startSentinel, processState, uniquePrefix } from '../src/index.js'

test('startRedis spawns a server that answers, pauses and restarts', async (t) => {
  const server = await startRedis({ local: true, persistence: true })
  t.teardown(server.stop)
  const client = server.client()
  t.equal(await client.ping(), 'PONG')
  await client.set('k', 'v')

  await server.pause()
  t.equal(processState(server.pid()!), 'T', 'process is stopped')
  await server.resume()
  t.equal(await client.ping(), 'PONG')

  await server.restart()
  const again = server.client()
  t.equal(await again.get('k'), 'v', 'append-only data survives restart')
})

test('password, ACL users and TLS', async (t) => {
  const server = await startRedis({ password: 'p@ss word', users: [{ name: 'app', password: 'app-secret' }], tls: true })
  t.teardown(server.stop)
  t.match(server.url, /^rediss:\/\//)
  const admin = server.client()
  t.equal(await admin.ping(), 'PONG')
  const app = new Redis({ ...server.options(), username: 'app', password: 'app-secret', lazyConnect: true })
  t.teardown(() => app.disconnect())
  await app.connect()
  t.equal(await app.call('ACL', 'WHOAMI'), 'app')
  const wrong = new Redis({ ...server.options({ tls: { ca: server.tls!.wrongCa, servername: 'localhost' } }), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  wrong.on('error', () => {})
  await t.rejects(wrong.connect())
  wrong.disconnect()
})

test('startCluster builds a 3-master cluster', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const client = cluster.client()
  const prefix = uniquePrefix()
  for (let i = 0; i < 30; i++) await client.set(`${prefix}${i}`, String(i))
  const masters = client.nodes('master')
  t.equal(masters.length, 3)
  const sizes = await Promise.all(masters.map(async (m) => await m.dbsize()))
  t.ok(sizes.every((n) => n > 0), `keys on every master: ${sizes.join(',')}`)
})

test('startCluster with replicas: moves a slot with its keys, cancels a move, fails over', async (t) => {
  const cluster = await startCluster({ replicasPerMaster: 1, password: 'cl pw' })
  t.teardown(cluster.stop)
  const topology = await cluster.topology()
  t.equal(topology.filter((n) => n.role === 'master').length, 3)
  t.equal(topology.filter((n) => n.role === 'replica').length, 3)
  const client = cluster.client()
  const prefix = uniquePrefix()
  const keys = Array.from({ length: 150 }, (_, i) => `${prefix}{moved}${i}`)
  for (const key of keys) await client.set(key, 'v')
  const slot = await cluster.keySlot(keys[0]!)
  const from = await cluster.ownerOf(slot)
  const to = await cluster.otherMaster(slot)
  t.not(to, from)

  await cluster.startSlotMove(slot, to)
  t.equal(await cluster.migrateSlotKeys(slot, to, 100, 40), 40, 'a limited migration moves that many keys')
  await cluster.cancelSlotMove(slot)
  t.equal(await cluster.ownerOf(slot), from, 'a cancelled move leaves the slot with its owner')
  await cluster.startSlotMove(slot, to)
  t.equal(await cluster.migrateSlotKeys(slot, to), 110, 'the remaining keys move (the first 40 stayed on the target)')
  await cluster.finishSlotMove(slot, to)
  t.equal(await cluster.ownerOf(slot), to, 'the target owns the slot')
  t.equal(await to.client().cluster('COUNTKEYSINSLOT', slot), 150, 'with every key')
  t.same(await client.mget(keys.slice(0, 3)), ['v', 'v', 'v'], 'clients follow the move')

  const promoted = await cluster.failover(to)
  t.not(promoted, to)
  t.equal(await cluster.ownerOf(slot), promoted, 'the replica now serves the slot')
  t.equal(((await to.client().call('ROLE')) as [string])[0], 'slave', 'the old master is its replica')
  t.equal(await client.get(keys[149]!), 'v', 'data survives the failover')
})

test('startSentinel builds a monitored group', async (t) => {
  const group = await startSentinel({ replicas: 1, sentinels: 3 })
  t.teardown(group.stop)
  const master = await group.currentMaster()
  t.equal(master.port, group.master.port)
  const client = new Redis({ sentinels: group.sentinels, name: group.name, lazyConnect: true })
  t.teardown(() => client.disconnect())
  await client.connect()
  t.equal(await client.set('x', '1'), 'OK')
})

test('keysWithoutTtl finds keys with no expiry under a literal prefix', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const client = server.client()
  const prefix = `${uniquePrefix()}[x]*`
  await client.set(`${prefix}a`, '1', 'PX', 60_000)
  await client.set(`${prefix}b`, '1')
  await client.set(`${prefix.replace('[x]', 'x')}c`, '1')
  const { keysWithoutTtl } = await import('../src/index.js')
  t.same(await keysWithoutTtl(client, prefix), [`${prefix}b`])
})
