import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import redkit, { type RedkitOptions } from '@redkit/core'
import { startRedis, uniquePrefix } from '@redkit/testing'
import rateLimit, { redkitStore, type Algorithm } from '../src/index.js'

type Order = 'redkit first' | '@fastify/rate-limit first'

/** An app with @fastify/rate-limit on the redkit store, registered in either order. */
async function appWith (t: { teardown: (fn: () => unknown) => void }, core: RedkitOptions, settings: Record<string, unknown>,
  order: Order = 'redkit first', algorithm: Algorithm = 'fixed', routes?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  t.teardown(async () => await app.close())
  await app.register(redkit, core)
  if (order === 'redkit first') {
    await app.register(rateLimit)
    await app.register(fastifyRateLimit, { ...settings, store: app.limiter.store({ algorithm }) })
  } else {
    // app.limiter does not exist yet: the store binds to it when routes are set up.
    await app.register(fastifyRateLimit, { ...settings, store: redkitStore(app, { algorithm }) })
    await app.register(rateLimit)
  }
  app.get('/', async () => 'ok')
  routes?.(app)
  await app.ready()
  return app
}

async function statuses (app: FastifyInstance, n: number, url = '/'): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await app.inject({ url })).statusCode)
  return out
}

test('@fastify/rate-limit options on the redkit store', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const targets: Array<[string, () => RedkitOptions]> = [
    ['redis', () => ({ url: server.url, keyPrefix: uniquePrefix('rl-frl'), env: {} })],
    ['memory', () => ({ mode: 'memory', env: {} })]
  ]

  for (const [name, core] of targets) {
    for (const order of ['redkit first', '@fastify/rate-limit first'] as const) {
      await t.test(`${name}, ${order}: ban 1 answers 403 on the request after the first refusal; onBanReach runs once`, async (t) => {
        let banned = 0
        const app = await appWith(t, core(), { max: 1, ban: 1, timeWindow: 10_000, onBanReach: () => { banned++ } }, order)
        t.same(await statuses(app, 3), [200, 429, 403])
        t.equal(banned, 1)
      })
    }

    await t.test(`${name}: continueExceeding pushes the reset out on each refused request`, async (t) => {
      const app = await appWith(t, core(), { max: 1, timeWindow: 400, continueExceeding: true })
      t.equal((await app.inject({ url: '/' })).statusCode, 200)
      const resets: number[] = []
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150))
        const res = await app.inject({ url: '/' })
        t.equal(res.statusCode, 429, `refusal ${i + 1}`)
        resets.push(Number(res.headers['retry-after']))
      }
      // 4 × 150 ms is past the 400 ms window: only restarts on each refusal keep refusing.
      t.same(resets, [1, 1, 1, 1], 'each refusal restarts the full window')
    })

    await t.test(`${name}: exponentialBackoff doubles retry-after on each refusal`, async (t) => {
      const app = await appWith(t, core(), { max: 1, timeWindow: 1000, exponentialBackoff: true })
      const res = []
      for (let i = 0; i < 5; i++) res.push(await app.inject({ url: '/' }))
      t.same(res.map((r) => r.statusCode), [200, 429, 429, 429, 429])
      t.same(res.slice(1).map((r) => r.headers['retry-after']), ['1', '2', '4', '8'])
    })

    await t.test(`${name}: the fastify.rateLimit() factory as a route onRequest hook counts in the redkit store`, async (t) => {
      const app = Fastify({ logger: false })
      t.teardown(async () => await app.close())
      await app.register(redkit, core())
      await app.register(rateLimit)
      await app.register(fastifyRateLimit, { global: false, store: app.limiter.store({ algorithm: 'fixed', nameSpace: 'factory' }) })
      app.get('/hooked', { onRequest: app.rateLimit({ max: 2, timeWindow: 1000 }) }, async () => 'ok')
      await app.ready()
      t.same(await statuses(app, 3, '/hooked'), [200, 200, 429])
      const peek = await app.limiter.peek('factory:127.0.0.1', { limit: 2, window: 1000, algorithm: 'fixed' })
      t.same([peek.allowed, peek.remaining, peek.refused], [false, 0, 1], 'the store holds the count and the refusal')
    })

    await t.test(`${name}: peek (increment: false) on a new key reports ttl 0`, async (t) => {
      const app = await appWith(t, core(), { global: false, max: 2, timeWindow: 1000 }, 'redkit first', 'fixed', (app) => {
        const check = app.createRateLimit()
        app.get('/peek', async (request) => await check(request, { increment: false }))
      })
      t.match((await app.inject({ url: '/peek' })).json(), { isAllowed: false, remaining: 2, ttl: 0, isExceeded: false })
    })

    for (const algorithm of ['sliding', 'sliding-log', 'token-bucket'] as const) {
      await t.test(`${name}: ${algorithm} refuses ban, continueExceeding and exponentialBackoff at setup`, async (t) => {
        for (const option of [{ ban: 1 }, { continueExceeding: true }, { exponentialBackoff: true }]) {
          await t.rejects(appWith(t, core(), { max: 1, ...option }, 'redkit first', algorithm),
            { code: 'FST_REDKIT_RATE_LIMIT_UNSUPPORTED_OPTION', message: new RegExp(`"${Object.keys(option)[0]!}".*${algorithm}`) })
        }
        const app = Fastify({ logger: false })
        t.teardown(async () => await app.close())
        await app.register(redkit, core())
        await app.register(rateLimit, { fastifyRateLimit: { global: false } })
        await app.after()
        t.throws(() => app.get('/', { config: { rateLimit: { max: 1, ban: 2, algorithm } } }, async () => 'ok'),
          { code: 'FST_REDKIT_RATE_LIMIT_UNSUPPORTED_OPTION' }, 'a route setting one is refused when the route is added')
      })
    }
  }
})
