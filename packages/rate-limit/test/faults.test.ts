import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startRedis, uniquePrefix, waitFor, type RedisServer } from '@redkit/testing'
import { buildApp, keysWithoutTtl, sleep } from './helpers.js'

const DEADLINE = 100

async function limitedApp (t: Parameters<typeof buildApp>[0], server: RedisServer): Promise<FastifyInstance> {
  return await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('rl-fault'), env: {} },
    { fastifyRateLimit: { max: 1_000_000, timeWindow: 60_000 } }, {}, (app) => {
      app.get('/open', { config: { rateLimit: { onRedisError: 'open' } } }, async () => 'ok')
      app.get('/closed', { config: { rateLimit: { onRedisError: 'closed' } } }, async () => 'ok')
    })
}

async function timed (app: FastifyInstance, url: string): Promise<{ status: number, ms: number, retryAfter: unknown }> {
  const started = performance.now()
  const res = await app.inject({ url })
  return { status: res.statusCode, ms: performance.now() - started, retryAfter: res.headers['retry-after'] }
}

async function recovered (app: FastifyInstance): Promise<void> {
  await waitFor(async () => !(await app.limiter.check('probe', { limit: 1_000_000 })).degraded, 15_000, 'checks to reach Redis again')
}

test('faults', async (t) => {
  const server = await startRedis({ config: ['enable-debug-command yes'] })
  t.teardown(server.stop)
  const admin = server.client()
  const app = await limitedApp(t, server)

  await t.test('SCRIPT FLUSH and a Redis restart during traffic: no 5xx from fail-open routes', async (t) => {
    const statuses: number[] = []
    const state = { running: true }
    const traffic = (async () => {
      while (state.running) {
        const batch = await Promise.all(Array.from({ length: 20 }, async () => await app.inject({ url: '/open' })))
        for (const res of batch) statuses.push(res.statusCode)
        await sleep(5)
      }
    })()
    await sleep(300)
    await admin.script('FLUSH')
    const afterFlush = await app.limiter.check('flush', { limit: 10 })
    t.equal(afterFlush.degraded, false, 'scripts reload after SCRIPT FLUSH')
    await sleep(300)
    await server.restart()
    await recovered(app)
    await sleep(300)
    state.running = false
    await traffic
    t.ok(statuses.length > 200, `traffic flowed (${statuses.length} requests)`)
    t.comment(`checks let through fail-open during the restart: ${app.limiter.metrics().failedOpen}`)
    t.same(statuses.filter((s) => s >= 500), [], 'zero 5xx responses')
    t.equal((await app.limiter.check('after', { limit: 10 })).remaining, 9, 'checks work after the restart')
  })

  await t.test('Redis paused (SIGSTOP): fail-open adds at most the deadline + 50 ms; fail-closed answers 503', async (t) => {
    const before = app.limiter.metrics()
    await server.pause()
    try {
      for (let i = 0; i < 5; i++) {
        const res = await timed(app, '/open')
        t.equal(res.status, 200, 'fail-open lets the request through')
        t.ok(res.ms <= DEADLINE + 50, `answered in ${res.ms.toFixed(1)} ms`)
      }
      const started = performance.now()
      const burst = await Promise.all(Array.from({ length: 20 }, async () => await timed(app, '/open')))
      t.ok(burst.every((r) => r.status === 200), 'a concurrent burst passes too')
      t.ok(performance.now() - started <= DEADLINE + 50, `burst of 20 answered in ${(performance.now() - started).toFixed(1)} ms`)
      for (let i = 0; i < 3; i++) {
        const res = await timed(app, '/closed')
        t.equal(res.status, 503, 'fail-closed refuses')
        t.equal(res.retryAfter, '1', 'with Retry-After')
        t.ok(res.ms <= DEADLINE + 50, `answered in ${res.ms.toFixed(1)} ms`)
      }
      const direct = await app.limiter.check('direct', { limit: 5 })
      t.equal(direct.degraded, true, 'check() reports a degraded decision')
      await t.rejects(app.limiter.check('direct', { limit: 5, onRedisError: 'closed' }), { code: 'FST_REDKIT_RATE_LIMIT_UNAVAILABLE', statusCode: 503 })
    } finally {
      await server.resume()
    }
    const after = app.limiter.metrics()
    t.ok(after.failedOpen - before.failedOpen >= 26, 'fail-open passes are counted')
    t.ok(after.failedClosed - before.failedClosed >= 4, 'fail-closed refusals are counted')
    // The first checks wait out the deadline; after that core fails fast, so later checks fail open at once.
    t.ok(after.deadlineMisses - before.deadlineMisses >= 1, 'deadline misses are counted')
    await recovered(app)
  })

  await t.test('Redis slow (DEBUG SLEEP): the deadline still holds', async (t) => {
    const sleeping = admin.call('DEBUG', 'SLEEP', '0.6')
    await sleep(20)
    const open = await timed(app, '/open')
    t.equal(open.status, 200)
    t.ok(open.ms <= DEADLINE + 50, `fail-open answered in ${open.ms.toFixed(1)} ms`)
    const closed = await timed(app, '/closed')
    t.equal(closed.status, 503)
    t.ok(closed.ms <= DEADLINE + 50, `fail-closed answered in ${closed.ms.toFixed(1)} ms`)
    await sleeping
    await recovered(app)
  })

  await t.test('Redis down and reconnecting: fail-open passes, fail-closed answers 503', async (t) => {
    await server.kill()
    try {
      await sleep(50)
      const statuses = { open: [] as number[], closed: [] as number[] }
      for (let i = 0; i < 5; i++) {
        const open = await timed(app, '/open')
        const closed = await timed(app, '/closed')
        statuses.open.push(open.status)
        statuses.closed.push(closed.status)
        t.ok(open.ms <= DEADLINE + 50 && closed.ms <= DEADLINE + 50, 'within the deadline')
        await sleep(60)
      }
      t.same(statuses.open, [200, 200, 200, 200, 200])
      t.same(statuses.closed, [503, 503, 503, 503, 503])
    } finally {
      await server.restart()
    }
    await recovered(app)
    t.equal((await app.inject({ url: '/closed' })).statusCode, 200, 'fail-closed routes serve again once Redis is back')
  })

  await t.test('zero keys without a TTL', async (t) => {
    t.same(await keysWithoutTtl(admin, 'redkit-test:rl-fault'), [])
  })
})
