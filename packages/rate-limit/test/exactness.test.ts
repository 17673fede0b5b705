import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startRedis, uniquePrefix } from '@redkit/testing'
import type { Algorithm } from '../src/index.js'
import { buildApp, keysWithoutTtl } from './helpers.js'

test('exactness across instances and clocks', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)

  // Default options: the deadline counts from when a check is written to Redis and
  // waits out an instance busy with the rest of the burst, so none fails open.
  async function instances (prefix: string, algorithm: Algorithm, timeWindow: number): Promise<FastifyInstance[]> {
    const apps: FastifyInstance[] = []
    for (let i = 0; i < 3; i++) {
      apps.push(await buildApp(t, { url: server.url, keyPrefix: prefix, env: {} },
        { fastifyRateLimit: { max: 100, timeWindow, algorithm } }, {}, (app) => { app.get('/', async () => 'ok') }))
    }
    return apps
  }

  // A token bucket refills; a one-hour window keeps refill below one token during the burst.
  // The sliding counter is exact while the previous sub-window is empty: its sub-windows
  // are anchored at the key's first request, so a burst shorter than the window is counted exactly.
  const windows: Record<Algorithm, number> = { sliding: 60_000, 'sliding-log': 60_000, fixed: 60_000, 'token-bucket': 3_600_000 }
  for (const algorithm of ['sliding', 'sliding-log', 'fixed', 'token-bucket'] as const) {
    await t.test(`${algorithm}: 3 instances, limit 100, 1,000 concurrent requests give exactly 100 allowed`, async (t) => {
      const apps = await instances(uniquePrefix('rl-exact'), algorithm, windows[algorithm])
      const responses = await Promise.all(Array.from({ length: 1000 }, async (_, i) =>
        await apps[i % 3]!.inject({ url: '/', remoteAddress: '192.0.2.10' })))
      const counts = new Map<number, number>()
      for (const res of responses) counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1)
      t.equal(counts.get(200), 100, 'exactly 100 allowed')
      t.equal(counts.get(429), 900, 'the rest refused with 429')
      t.equal(apps.reduce((sum, app) => sum + app.limiter.metrics().failedOpen, 0), 0, 'no check fell back to fail-open')
    })
  }

  // x-ratelimit-reset is when the limit is fully back: the newest request's exit for the log,
  // two windows after the current sub-window's start for the counter.
  const fullyBack: Array<[Algorithm, number, number]> = [['sliding', 119, 120], ['sliding-log', 59, 60]]
  for (const [algorithm, low, high] of fullyBack) {
    await t.test(`${algorithm}: one instance clock shifted by ±30 s leaves the counts unchanged`, async (t) => {
      const prefix = uniquePrefix('rl-exact')
      const apps = await instances(prefix, algorithm, 60_000)
      const realNow = Date.now
      t.teardown(() => { Date.now = realNow })
      const statuses: number[] = []
      const resets: number[] = []
      const run = async (app: FastifyInstance, n: number): Promise<void> => {
        const batch = await Promise.all(Array.from({ length: n }, async () =>
          await app.inject({ url: '/', remoteAddress: '192.0.2.20' })))
        for (const res of batch) {
          statuses.push(res.statusCode)
          if (res.statusCode === 200) resets.push(Number(res.headers['x-ratelimit-reset']))
        }
      }
      await run(apps[0]!, 40)
      Date.now = () => realNow() + 30_000
      await run(apps[1]!, 40)
      Date.now = () => realNow() - 30_000
      await run(apps[2]!, 40)
      Date.now = realNow
      t.equal(statuses.filter((s) => s === 200).length, 100, 'exactly 100 allowed over the three clocks')
      t.equal(statuses.filter((s) => s === 429).length, 20)
      t.ok(resets.every((r) => r >= low && r <= high), `every instance reports the same reset time, taken from Redis (${Math.min(...resets)}–${Math.max(...resets)} s)`)
      const direct = apps.map((app) => app.limiter)
      Date.now = () => realNow() + 30_000
      const shifted = await direct[1]!.check('clock', { limit: 5, window: 1000 })
      Date.now = realNow
      t.ok(Math.abs(shifted.now - Date.now()) < 1000, 'decision time is Redis time, not the shifted app clock')
    })
  }

  await t.test('zero keys without a TTL', async (t) => {
    t.same(await keysWithoutTtl(server.client(), 'redkit-test:rl-exact'), [])
  })
})
