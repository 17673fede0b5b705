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
  const fill = async (tag: string): Promise<void> => {
    for (let i = 0; i < ENTRIES; i += 2000) {
      await Promise.all(Array.from({ length: 2000 }, async (_, j) => await cache.set(`k${i + j}`, i + j, { ttl: 120_000, tags: [tag] })))
    }
  }
  await cache.set('other', 'kept', { ttl: 120_000, tags: ['else'] })

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

  // Server-side durations tell Redis being busy apart from this machine being busy. A script
  // that is slow by design is slow every time; on a loaded machine the OS can also stall a
  // fast one, so a measurement with a slow entry is taken again, up to three times, each
  // time with a fresh 100k-entry tag.
  let slow: Array<[number, number, number, string[]]> = []
  let busy = { slowest: 0, pings: 0 }
  let invalidateMs = 0
  let tag = ''
  for (let attempt = 1; attempt <= 3; attempt++) {
    tag = `all${attempt}`
    await fill(tag)
    t.equal(await cache.get('k99999'), 99_999)
    await admin.config('SET', 'slowlog-log-slower-than', '25000')
    await admin.slowlog('RESET')
    busy = await slowestPing(async () => {
      const started = performance.now()
      await cache.invalidate({ tags: [tag] })
      invalidateMs = performance.now() - started
      // Let the background collection after the invalidation run under the probe too.
      await pause(3000)
    })
    slow = await admin.slowlog('GET', 10) as Array<[number, number, number, string[]]>
    await admin.config('SET', 'slowlog-log-slower-than', '10000')
    t.comment(`attempt ${attempt}: invalidate resolved in ${invalidateMs.toFixed(1)} ms; PING round trips: slowest ${busy.slowest.toFixed(1)} ms of ${busy.pings} ` +
      `during and after it, ${idle.slowest.toFixed(1)} ms of ${idle.pings} before it; slow log: ${JSON.stringify(slow.map((e) => e[2]))}`)
    if (slow.length === 0) break
    await waitFor(async () => await admin.exists(`${app.redkit.prefix}cache:{big}:e:k${ENTRIES - 1}`) === 0, 60_000, 'the background collection')
  }
  t.same(slow.map((e) => `${e[3]![0]} took ${e[2]} us`), [], 'no command kept Redis busy for 25 ms or more')
  // The 25 ms requirement is checked on the server (SLOWLOG above): round trips measured from this
  // process also include its own work and the test machine's load, which the idle figure shows.
  t.ok(busy.slowest < 1000, `the slowest PING round trip (${busy.slowest.toFixed(1)} ms) stayed under core's command deadline`)
  for (const i of [0, 1, 50_000, 99_999]) t.equal(await cache.get(`k${i}`), undefined, `k${i} is not served`)
  await waitFor(async () => await admin.exists(`${app.redkit.prefix}cache:{big}:e:k${ENTRIES - 1}`) === 0, 60_000, 'the background collection')
  t.equal(await admin.exists(`${app.redkit.prefix}cache:{big}:e:k0`), 0, 'the invalidated entries were deleted in the background')
  t.equal(await cache.wrap('k7', () => 'reloaded', { tags: [tag] }), 'reloaded')
  t.equal(await cache.get('other'), 'kept')
})
