import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { makeApp, sleep } from './helpers.js'
import { runWorkers } from './stress.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => { unhandled.push(reason) })

test('4 workers on 2 instances take 1,000 acquisitions: no overlap, tokens increase', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const keyPrefix = uniquePrefix('lock')
  const apps = [await makeApp({ url: server.url, keyPrefix, env: {} }), await makeApp({ url: server.url, keyPrefix, env: {} })]
  t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })
  const { resource, errors, uncoded } = await runWorkers(apps, 4, 1000, 'shared')
  t.equal(resource.entries, 1000)
  t.equal(resource.overlaps, 0, 'no overlap')
  t.equal(resource.decreases, 0, 'tokens strictly increase')
  t.same([...errors], [], 'no errors')
  t.same(uncoded, [])
  t.same(unhandled, [], 'no unhandled rejections')
})

test('release wakes a waiter on another instance by pub/sub, not by polling', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const keyPrefix = uniquePrefix('lock')
  const opts = { pollInterval: 5000 }
  const a = await makeApp({ url: server.url, keyPrefix, env: {} }, opts)
  const b = await makeApp({ url: server.url, keyPrefix, env: {} }, opts)
  t.teardown(async () => { await a.close(); await b.close() })
  for (let i = 0; i < 3; i++) {
    const held = await a.locks.acquire('wake', { ttl: 30_000 })
    const waiting = b.locks.acquire('wake', { timeout: 10_000 })
    await sleep(150)
    const released = performance.now()
    await held.release()
    const next = await waiting
    const latency = performance.now() - released
    // The generous bound only separates a wake-up (about 1 ms) from the 5 s poll.
    t.ok(latency < 1000, `woken after ${latency.toFixed(2)} ms`)
    await next.release()
  }
})
