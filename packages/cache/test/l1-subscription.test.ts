import Fastify from 'fastify'
import t from 'tap'
import redkit from '@redkit/core'
import { logCapture, startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import redkitCache from '../src/index.js'
import { PREFIX_LABEL } from './helpers.js'

t.test('L1 is bypassed while change messages cannot be heard, and serves again once they can', async (t) => {
  // An ACL user whose SUBSCRIBE can be refused keeps the subscription down for as long as the test needs.
  const server = await startRedis({ users: [{ name: 'app', password: 'pw' }] })
  t.teardown(server.stop)
  const admin = server.client()
  const keyPrefix = uniquePrefix(PREFIX_LABEL)
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  t.teardown(async () => await app.close())
  await app.register(redkit, { url: `redis://app:pw@${server.host}:${server.port}`, env: {}, keyPrefix })
  await app.register(redkitCache, { l1: { max: 100, ttl: 60_000 } })
  await app.ready()
  const entry = (key: string): string => `${keyPrefix}cache:{default}:e:${key}`
  const l1Hits = (): number => app.cache.stats().total.l1Hits

  await app.cache.set('k', 'v1')
  await waitFor(async () => {
    await app.cache.get('k')
    return l1Hits() > 0
  }, 5000, 'L1 to serve')

  // Changes another instance makes from now on would go unheard.
  await admin.call('ACL', 'SETUSER', 'app', '-subscribe')
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await waitFor(() => logs.lines.some((l) => l.includes('subscriber connection lost')), 5000, 'the loss to be logged')
  // Reconnected, but its SUBSCRIBE is refused: the connection is up, the subscription is not.
  await waitFor(() => app.redkit.stats().subscribeRetries > 0, 5000, 'a refused SUBSCRIBE')
  await app.cache.set('other', 'changed behind the cache')
  await admin.set(entry('k'), (await admin.get(entry('other')))!, 'PX', 60_000)
  const before = l1Hits()
  t.equal(await app.cache.get('k'), 'changed behind the cache', 'the L1 copy was dropped on the loss')
  t.equal(await app.cache.get('k'), 'changed behind the cache')
  t.equal(l1Hits(), before, 'L1 is bypassed while unsubscribed')
  t.equal(app.redkit.stats().subscriberLost, 1, 'the loss is counted')

  await admin.call('ACL', 'SETUSER', 'app', '+subscribe')
  await waitFor(() => logs.lines.some((l) => l.includes('subscriber connection recovered')), 10_000, 'the recovery to be logged')
  await waitFor(async () => {
    await app.cache.get('k')
    return l1Hits() > before
  }, 5000, 'L1 to serve again')
  t.equal(await app.cache.get('k'), 'changed behind the cache')
  t.equal(logs.lines.filter((l) => l.includes('subscriber connection lost')).length, 1, 'one line on loss')
  t.equal(logs.lines.filter((l) => l.includes('subscriber connection recovered')).length, 1, 'one line on recovery')
})
