import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis, waitFor } from '@redkit/testing'
import { makeApp } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)
const target = { kind: 'redis' as const, url: server.url }
const ENTRIES = 100_000

t.test('invalidating a 100k-entry tag never holds up other clients; none of its entries is served after', async (t) => {
  const app = await makeApp(t, target, { core: { commandTimeout: 10_000 } })
  const cache = app.cache.ns('big')
  for (let i = 0; i < ENTRIES; i += 2000) {
    await Promise.all(Array.from({ length: 2000 }, async (_, j) => await cache.set(`k${i + j}`, i + j, { ttl: 120_000, tags: ['all'] })))
  }
  await cache.set('other', 'kept', { ttl: 120_000, tags: ['else'] })
  t.equal(await cache.get('k99999'), 99_999)

  const admin = server.client()
  const probe = new Redis(server.options())
  t.teardown(() => { probe.disconnect() })
  // PINGs in a loop on a connection of their own; the slowest round trip while `during` runs.
  const slowestPing = async (during: () => Promise<void>): Promise<{ slowest: number, pings: number }> => {
    const state = { running: true }
    let slowest = 0
    let pings = 0
    const loop = (async () => {
      while (state.running) {
        const started = performance.now()
        await probe.ping()
        slowest = Math.max(slowest, performance.now() - started)
        pings++
      }
    })()
    await during()
    state.running = false
    await loop
    return { slowest, pings }
  }
  const pause = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
  const idle = await slowestPing(async () => { await pause(1000) })

  // Server-side durations tell Redis being busy apart from this machine being busy.
  await admin.config('SET', 'slowlog-log-slower-than', '25000')
  await admin.slowlog('RESET')
  let invalidateMs = 0
  const busy = await slowestPing(async () => {
    const started = performance.now()
    await cache.invalidate({ tags: ['all'] })
    invalidateMs = performance.now() - started
    // Let the background collection after the invalidation run under the probe too.
    await pause(3000)
  })
  const slow = await admin.slowlog('GET', 10) as Array<[number, number, number, string[]]>
  await admin.config('SET', 'slowlog-log-slower-than', '10000')
  t.comment(`invalidate resolved in ${invalidateMs.toFixed(1)} ms; PING round trips: slowest ${busy.slowest.toFixed(1)} ms of ${busy.pings} ` +
    `during and after it, ${idle.slowest.toFixed(1)} ms of ${idle.pings} before it`)
  t.same(slow.map((e) => `${e[3]![0]} took ${e[2]} us`), [], 'no command kept Redis busy for 25 ms or more')
  // The 25 ms requirement is checked on the server (SLOWLOG above): round trips measured from this
  // process also include its own work and the test machine's load, which the idle figure shows.
  t.ok(busy.slowest < 1000, `the slowest PING round trip (${busy.slowest.toFixed(1)} ms) stayed under core's command deadline`)
  for (const i of [0, 1, 50_000, 99_999]) t.equal(await cache.get(`k${i}`), undefined, `k${i} is not served`)
  await waitFor(async () => await admin.exists(`${app.redkit.prefix}cache:{big}:e:k${ENTRIES - 1}`) === 0, 60_000, 'the background collection')
  t.equal(await admin.exists(`${app.redkit.prefix}cache:{big}:e:k0`), 0, 'the invalidated entries were deleted in the background')
  t.equal(await cache.wrap('k7', () => 'reloaded', { tags: ['all'] }), 'reloaded')
  t.equal(await cache.get('other'), 'kept')
})
