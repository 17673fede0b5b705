import t from 'tap'
import { startCluster } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp, twoApps, until } from './helpers.js'

const cluster = await startCluster({ masters: 3 })
t.teardown(cluster.stop)

t.test('sharded (default)', async (t) => {
  contract(t, { shared: true, patterns: false, make: async (prefix, opts) => await makeApp({ clusterNodes: cluster.nodes }, prefix, opts) })
})

t.test('not sharded, so patterns work', async (t) => {
  contract(t, {
    shared: true,
    patterns: true,
    exactCounts: false,
    make: async (prefix, opts) => await makeApp({ clusterNodes: cluster.nodes }, prefix, { sharded: false, ...opts })
  })
})

t.test('sharded subscribers come back after CLIENT KILL TYPE pubsub on every node', async (t) => {
  const { a, b } = await twoApps(t, { clusterNodes: cluster.nodes }, 'cluster-kill')
  // Channels spread over the three shards.
  const channels = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']
  const got = new Map<string, number[]>()
  for (const channel of channels) {
    got.set(channel, [])
    await b.pubsub.subscribe(channel, (m) => { got.get(channel)!.push(m.seq) })
  }
  let resubscribed = 0
  b.pubsub.on('resubscribed', () => { resubscribed++ })
  for (const channel of channels) await a.pubsub.publish(channel, 'before')
  await until(() => channels.every((c) => got.get(c)!.length === 1), 5000, 'first round')
  for (const node of cluster.servers) {
    const admin = node.client()
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    admin.disconnect()
  }
  const killedAt = Date.now()
  // Keep publishing until every channel delivers again.
  await until(() => {
    for (const channel of channels) a.pubsub.publish(channel, 'after').catch(() => {})
    return channels.every((c) => got.get(c)!.length >= 2)
  }, 10_000, 'delivery on every shard after the kill')
  t.ok(Date.now() - killedAt < 10_000, `back after ${Date.now() - killedAt} ms`)
  t.ok(resubscribed >= 1, 'resubscribe observed')
  const stats = b.pubsub.stats()
  t.ok(stats.subscriberLost >= 1, `the loss is counted (${stats.subscriberLost})`)
  t.ok(stats.resubscribes >= 1)
  t.ok(stats.gaps >= 0)
})

t.test('classic (not sharded) subscriber: a killed connection is counted, logged and restored', async (t) => {
  const { a, b, logs } = await twoApps(t, { clusterNodes: cluster.nodes }, 'cluster-classic-kill', { sharded: false })
  const got: string[] = []
  const wide: string[] = []
  await b.pubsub.subscribe('classic', (m) => { got.push(m.data as string) })
  await b.pubsub.psubscribe('classic.*', (m) => { wide.push(m.channel) })
  await a.pubsub.publish('classic', 'before')
  await until(() => got.length === 1, 5000, 'first message')
  for (const node of cluster.servers) {
    const admin = node.client()
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    admin.disconnect()
  }
  await until(() => b.pubsub.stats().resubscribes >= 1, 10_000, 'the resubscribe')
  t.ok(b.pubsub.stats().subscriberLost >= 1, 'the loss is counted')
  await until(() => {
    a.pubsub.publish('classic', 'after').catch(() => {})
    a.pubsub.publish('classic.eu', 'after').catch(() => {})
    return got.includes('after') && wide.length > 0
  }, 10_000, 'channel and pattern delivering again')
  t.ok(logs.records().some((r) => r.msg === 'redkit pubsub: subscriber connection lost; resubscribing when it is back'), 'the loss is logged')
  const back = logs.records().find((r) => r.msg === 'redkit pubsub: subscriber reconnected and resubscribed')
  t.equal(back?.channels, 1)
  t.equal(back?.patterns, 1)
})
