import t from 'tap'
import { startRedis } from '@redkit/testing'
import { NamespaceKeys } from '../src/keys.js'
import { makeApp } from './helpers.js'

const server = await startRedis({ local: true })
t.teardown(server.stop)

t.test('a fill whose write fails releases its fill lock, so waiters do not wait out lockWait', async (t) => {
  const app = await makeApp(t, { kind: 'redis', url: server.url }, { cache: { namespace: 'fills' } })
  const keys = new NamespaceKeys('fills', app.redkit.prefix)
  const client = app.redkit.client!
  const value = await app.cache.wrap('k', async () => {
    // A tag member set of the wrong type makes the write script fail after the value was made.
    await client.set(keys.tag('t').set, 'not a sorted set', 'PX', 60_000)
    return 'made'
  }, { tags: ['t'] })
  t.equal(value, 'made', 'the caller still gets its value (fail open)')
  t.ok(app.cache.stats().total.errors >= 1, 'the failed write is counted')
  t.equal(await client.exists(keys.lock('k')), 0, 'the fill lock is released')
})
