import t from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)
contract(t, { shared: true, patterns: true, make: async (prefix, opts) => await makeApp({ url: server.url }, prefix, opts) })

t.test('streams survive SCRIPT FLUSH, and every key has a TTL', async (t) => {
  const prefix = uniquePrefix('ttl')
  const app = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => await app.close())
  const stream = app.pubsub.stream('after-flush', { group: 'g' })
  await stream.publish({ n: 1 })
  await app.redkit.client!.script('FLUSH')
  await stream.publish({ n: 2 })
  const seen: number[] = []
  const stop = await stream.subscribe(() => {})
  await stop()
  for await (const m of stream.replay()) seen.push((m.data as { n: number }).n)
  t.same(seen, [1, 2])
  const admin = server.client()
  let keys = 0
  for await (const key of app.redkit.scan('redkit-test:*')) {
    keys++
    const ttl = await admin.pttl(key)
    t.ok(ttl > 0, `${key} has a TTL`)
  }
  t.ok(keys >= 1, `checked ${keys} keys`)
})
