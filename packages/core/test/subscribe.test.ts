import { test } from 'tap'
import { startCluster, startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import { buildApp } from './helpers.js'

test('Cluster with replicas in clusterNodes: a duplicate keeps its startup nodes and its first SUBSCRIBE succeeds', async (t) => {
  const cluster = await startCluster({ replicasPerMaster: 1 })
  t.teardown(cluster.stop)
  const roles = (await cluster.topology()).map((n) => n.role)
  t.equal(roles.filter((r) => r === 'replica').length, 3, '3 masters and 3 replicas, all in the node list')
  const outcomes: string[] = []
  let dropped = 0
  for (let run = 0; run < 8; run++) {
    const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, keyPrefix: uniquePrefix('dup') })
    const copy = app.redkit.duplicate()
    const onDrop = (): void => { dropped++ }
    copy.on('-node', onDrop)
    const channel = app.redkit.key('chan')
    const received = new Promise<string>((resolve) => copy.on('message', (_: string, message: string) => resolve(message)))
    try {
      await copy.subscribe(channel)
      await app.redkit.client!.publish(channel, `run ${run}`)
      outcomes.push(await received)
    } catch (err) {
      outcomes.push((err as Error).message)
    }
    copy.off('-node', onDrop)
    await app.close()
  }
  t.same(outcomes, Array.from({ length: 8 }, (_, run) => `run ${run}`), 'every first SUBSCRIBE succeeded and got its message')
  t.equal(dropped, 0, 'no startup node was dropped (and with it the subscriber ioredis had put there)')
})

test('Cluster with replicas in clusterNodes: subscribe() is made on the first try or retried, and messages arrive', async (t) => {
  const cluster = await startCluster({ masters: 3, replicasPerMaster: 1 })
  t.teardown(cluster.stop)
  for (let run = 0; run < 4; run++) {
    const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, keyPrefix: uniquePrefix('csub') })
    const channel = app.redkit.key('chan')
    const got: string[] = []
    const sub = app.redkit.subscribe(channel, (_, message) => got.push(message))
    await sub.ready
    t.equal(sub.active, true, `run ${run}: subscribed`)
    await app.redkit.client!.publish(channel, `run ${run}`)
    await waitFor(() => got.length === 1, 5000, 'the message')
    t.same(got, [`run ${run}`])
    await app.close()
  }
})

test('subscribe(): subscribes again after a SIGKILL and restart, logging loss and recovery once', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const { app, logs } = await buildApp(t, { url: server.url, commandTimeout: 500, keyPrefix: uniquePrefix('sub') })
  const channel = app.redkit.key('events')
  const got: string[] = []
  const states: string[] = []
  const sub = app.redkit.subscribe(channel, (ch, message) => got.push(`${ch === channel ? 'ok' : ch}:${message}`), {
    onActive: () => states.push('active'),
    onInactive: () => states.push('inactive')
  })
  await sub.ready
  t.equal(sub.active, true)
  await app.redkit.client!.publish(channel, 'a')
  await waitFor(() => got.length === 1, 2000, 'first message')

  await server.kill()
  await waitFor(() => !sub.active, 5000, 'the subscription to be reported inactive')
  await server.restart()
  await waitFor(() => sub.active, 10_000, 'the subscription to be made again')
  await app.redkit.client!.publish(channel, 'b')
  await waitFor(() => got.length === 2, 2000, 'message after recovery')
  t.same(got, ['ok:a', 'ok:b'])
  const lost = logs.lines.filter((l) => l.includes('subscriber connection lost'))
  const recovered = logs.lines.filter((l) => l.includes('subscriber connection recovered'))
  t.equal(lost.length, 1, 'one line on loss')
  t.equal(recovered.length, 1, 'one line on recovery')
  t.match(app.redkit.stats(), { subscriberLost: 1, subscriberRecovered: 1 })
  t.same(states, ['active', 'inactive', 'active'], 'the owner hears of the first subscription, the loss and the recovery')
  t.equal(sub.losses, 1, 'the subscription counts its loss')
  await sub.close()
})

test('subscribe(): a SUBSCRIBE that fails is retried until it succeeds', async (t) => {
  // An ACL user without channel permissions gets NOPERM until it is granted them.
  const server = await startRedis({ users: [{ name: 'app', password: 'pw', rules: '~* resetchannels +@all' }] })
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: `redis://app:pw@${server.host}:${server.port}`, keyPrefix: uniquePrefix('acl') })
  const channel = app.redkit.key('events')
  const got: string[] = []
  const sub = app.redkit.subscribe([channel], (_, message) => got.push(message))
  await waitFor(() => app.redkit.stats().subscribeRetries >= 2, 5000, 'failed attempts')
  t.equal(sub.active, false, 'not subscribed while refused')
  await server.client().call('ACL', 'SETUSER', 'app', 'allchannels')
  await sub.ready
  t.equal(sub.active, true, 'subscribed once allowed, without the caller retrying')
  t.ok(sub.failures >= 2, 'the subscription counts its failed attempts')
  t.equal(sub.losses, 0, 'a subscription never made was not lost')
  await app.redkit.client!.publish(channel, 'hello')
  await waitFor(() => got.length === 1, 2000, 'message')
  t.same(got, ['hello'])
  await sub.close()
  t.equal(sub.active, true, 'close() keeps the last state')
})

test('subscribe(): patterns, several listeners on one connection, close() stops delivery', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('pat') })
  const a: string[] = []
  const b: string[] = []
  const one = app.redkit.subscribe(app.redkit.key('x'), (_, m) => a.push(m))
  const two = app.redkit.subscribe(`${app.redkit.escapeGlob(app.redkit.prefix)}*`, (ch, m) => b.push(`${ch.slice(app.redkit.prefix.length)}=${m}`), { pattern: true })
  await Promise.all([one.ready, two.ready])
  await app.redkit.client!.publish(app.redkit.key('x'), '1')
  await waitFor(() => a.length === 1 && b.length === 1, 2000, 'both listeners')
  await one.close()
  await app.redkit.client!.publish(app.redkit.key('x'), '2')
  await waitFor(() => b.length === 2, 2000, 'pattern listener')
  t.same(a, ['1'], 'a closed subscription gets nothing more')
  t.same(b, ['x=1', 'x=2'])
})

test('subscribe() needs Redis', async (t) => {
  const { app } = await buildApp(t, { mode: 'memory' })
  t.throws(() => app.redkit.subscribe('c', () => {}), { code: 'FST_REDKIT_MEMORY_MODE' })
})

test('subscribe() on Cluster: messages arrive again after the subscriber\'s node is killed and a failover', async (t) => {
  const cluster = await startCluster({ replicasPerMaster: 1 })
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, commandTimeout: 500, keyPrefix: uniquePrefix('csub') })
  const channel = app.redkit.key('events')
  const got: string[] = []
  const sub = app.redkit.subscribe(channel, (_, message) => got.push(message))
  await sub.ready
  // The node ioredis put the subscriber on is the one with a client in subscriber mode.
  const hosts = await Promise.all(cluster.servers.map(async (server) => {
    const list = await server.client().client('LIST') as string
    return /sub=[1-9]/.test(list) ? server : undefined
  }))
  const host = hosts.find((s) => s !== undefined)
  t.ok(host !== undefined, 'found the subscriber\'s node')
  await host!.kill()
  let n = 0
  await waitFor(async () => {
    await app.redkit.client!.publish(channel, `m${n++}`).catch(() => {})
    return got.length > 0
  }, 30_000, 'a message after the node died')
  t.pass(`messages arrive again (${got.length} after ${n} publishes)`)
  await waitFor(() => sub.active, 10_000, 'the subscription to be reported active')
  t.comment(`stats: ${JSON.stringify(app.redkit.stats())}`)
})
