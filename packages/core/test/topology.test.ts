import { test } from 'tap'
import { startCluster, startSentinel, uniquePrefix } from '@redkit/testing'
import { WRITE_BATCH } from '../src/writes.js'
import { buildApp, spyWrites } from './helpers.js'

test('Sentinel: connects to the master named by the sentinels', async (t) => {
  const group = await startSentinel({ replicas: 1, sentinels: 3 })
  t.teardown(group.stop)
  const { app } = await buildApp(t, { env: { REDIS_SENTINELS: group.sentinelList, REDIS_SENTINEL_NAME: group.name } })
  t.equal(app.redkit.mode, 'redis')
  t.equal(app.redkit.isCluster, false)
  await app.redkit.client!.set(app.redkit.key('sentinel'), '1', 'PX', 60_000)
  const role = await app.redkit.client!.call('ROLE') as [string]
  t.equal(role[0], 'master', 'writes go to the master')
  t.match(await app.redkit.health(), { status: 'ok', mode: 'redis' })
})

test('Cluster: commands, scripts and scan across every master', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const prefix = uniquePrefix('cluster')
  const { app } = await buildApp(t, { env: { REDIS_CLUSTER_NODES: cluster.nodeList }, keyPrefix: prefix })
  t.equal(app.redkit.isCluster, true)
  const redis = app.redkit.client!
  const written = new Set<string>()
  for (let i = 0; i < 60; i++) {
    const key = app.redkit.key('item', i)
    await redis.set(key, String(i), 'PX', 60_000)
    written.add(key)
  }
  // A key outside the prefix must not be matched.
  await redis.set(`other:${prefix}item:1`, 'x', 'PX', 60_000)

  const perMaster = await Promise.all((app.redkit.client as import('ioredis').Cluster).nodes('master').map(async (node) => {
    const [, keys] = await node.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000)
    return keys.length
  }))
  t.ok(perMaster.filter((n) => n > 0).length === 3, `keys spread over all masters: ${perMaster.join(',')}`)

  const seen = new Set<string>()
  for await (const key of app.redkit.scan(`${app.redkit.escapeGlob(prefix)}item:*`, { count: 7 })) seen.add(key)
  t.same([...seen].sort(), [...written].sort(), 'scan finds every key on every master, and nothing else')

  const tag = app.redkit.hashTag('user:1')
  const swap = app.redkit.defineScript<string>('redkitTestSwap', `
    local old = redis.call('GET', KEYS[1])
    redis.call('SET', KEYS[2], old or '', 'PX', 60000)
    return old`, 2)
  await redis.set(app.redkit.key(tag, 'a'), 'A', 'PX', 60_000)
  t.equal(await swap([app.redkit.key(tag, 'a'), app.redkit.key(tag, 'b')]), 'A', 'a multi-key script works with a shared hash tag')
  t.equal(await redis.get(app.redkit.key(tag, 'b')), 'A')

  const hash = app.redkit.key(tag, 'h')
  const replies = await redis.multi().hset(hash, 'f', '1').pexpire(hash, 60_000).exec()
  t.same(replies, [[null, 1], [null, 1]], 'MULTI works through the instrumented cluster client')
  const piped = await redis.pipeline().get(app.redkit.key(tag, 'a')).get(app.redkit.key(tag, 'b')).exec()
  t.same(piped, [[null, 'A'], [null, 'A']], 'pipelines within one slot work')
})

test('Cluster: commands sent in one turn leave each node in few socket writes', async (t) => {
  const cluster = await startCluster({ masters: 3 })
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { env: { REDIS_CLUSTER_NODES: cluster.nodeList }, keyPrefix: uniquePrefix('cluster') })
  const redis = app.redkit.client as import('ioredis').Cluster
  const keys = Array.from({ length: 30 }, (_, i) => app.redkit.key('w', i))
  await Promise.all(keys.map(async (key) => await redis.set(key, '0', 'PX', 60_000)))
  const pieces: number[] = []
  for (const node of redis.nodes('master')) spyWrites(node, pieces)
  const replies = await Promise.all(Array.from({ length: 10 }, async () => await Promise.all(keys.map(async (key) => await redis.incr(key)))))
  t.same(replies[9], keys.map(() => 10), 'every key counted every increment, in order')
  // Each master carries about 100 of them, in pieces of 16, 32… WRITE_BATCH.
  t.ok(pieces.length <= 3 * (Math.log2(WRITE_BATCH) + Math.ceil(120 / WRITE_BATCH) + 1), `300 commands over 3 masters in ${pieces.length} writes`)
})
