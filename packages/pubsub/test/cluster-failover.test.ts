import t from 'tap'
import { startCluster } from '@redkit/testing'
import type { Cluster, Redis } from 'ioredis'
import { makeApp, twoApps, until } from './helpers.js'

const cluster = await startCluster({ masters: 3, replicasPerMaster: 1 })
t.teardown(cluster.stop)

function subscriberPort (app: Awaited<ReturnType<typeof makeApp>>): number {
  const transport = (app.pubsub as unknown as { transport: { subscriber: { connection: Redis } } }).transport
  return Number(transport.subscriber.connection.options.port)
}

t.test('classic subscriber on Cluster: when its node goes away, it moves to another master and resubscribes', async (t) => {
  const { a, b, logs } = await twoApps(t, { clusterNodes: cluster.nodes }, 'cluster-node-gone', { sharded: false })
  const got = new Set<string>()
  await b.pubsub.subscribe('alpha', (m) => { got.add(m.data as string) })
  await b.pubsub.psubscribe('beta.*', (m) => { got.add(m.data as string) })
  await a.pubsub.publish('alpha', 'before')
  await until(() => got.has('before'), 5000, 'first message')

  const before = subscriberPort(b)
  const masters = (b.redkit.client as Cluster).nodes('master').map((n) => Number(n.options.port))
  t.ok(masters.includes(before), `the subscriber is on a master (${before})`)
  const victim = cluster.servers.find((s) => s.port === before)!
  await victim.kill()

  // Publishing goes on through whatever nodes answer; the replica takes over the slots meanwhile.
  await until(() => {
    a.pubsub.publish('alpha', 'after').catch(() => {})
    a.pubsub.publish('beta.x', 'after-pattern').catch(() => {})
    return got.has('after') && got.has('after-pattern')
  }, 60_000, 'channel and pattern delivering again')
  const after = subscriberPort(b)
  t.not(after, before, `moved from ${before} to ${after}`)
  const stats = b.pubsub.stats()
  t.ok(stats.subscriberLost >= 1, `loss counted (${stats.subscriberLost})`)
  t.ok(stats.resubscribes >= 1, `resubscribe counted (${stats.resubscribes})`)
  t.ok(logs.records().some((r) => r.msg === 'redkit pubsub: subscriber connection lost; resubscribing when it is back'), 'the loss is logged')
  const back = logs.records().find((r) => r.msg === 'redkit pubsub: subscriber reconnected and resubscribed')
  t.equal(back?.channels, 1)
  t.equal(back?.patterns, 1)
  t.comment(`back after ${String(back?.downtimeMs)} ms, ${String(back?.attempts)} attempt(s)`)
})
