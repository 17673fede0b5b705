import { request as httpRequest, Agent } from 'node:http'
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { buildApp } from './helpers.js'

/** Synchronous work per request, as a real handler chain does (parsing, auth, serialising). */
const BUSY_MS = 0.5

function busy (): void {
  const until = performance.now() + BUSY_MS
  while (performance.now() < until) { /* the instance is busy */ }
}

test('busy instances on a healthy Redis count exactly, with default options', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const prefix = uniquePrefix('rl-burst')
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) {
    apps.push(await buildApp(t, { url: server.url, keyPrefix: prefix, env: {} },
      { fastifyRateLimit: { max: 100, timeWindow: 60_000, keyGenerator: (request) => String(request.headers['x-client']) } }, {}, (app) => {
        // Before the route's rate-limit hook, and after it: replies to checks
        // wait while the instance works on the requests already decided.
        app.addHook('onRequest', async () => { busy() })
        app.addHook('preHandler', async () => { busy() })
        app.get('/', async () => 'ok')
      }))
  }

  // Real HTTP, so each instance reads many requests in one turn of its event loop, as a server under load does.
  const ports: number[] = []
  for (const app of apps) {
    await app.listen({ port: 0, host: '127.0.0.1' })
    ports.push((app.server.address() as { port: number }).port)
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 100 })
  t.teardown(() => agent.destroy())
  const get = async (port: number, client: string): Promise<number> => await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent, headers: { 'x-client': client } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.end()
  })

  for (let burst = 0; burst < 10; burst++) {
    const statuses = await Promise.all(Array.from({ length: 1000 }, async (_, i) => await get(ports[i % 3]!, `burst-${burst}`)))
    const allowed = statuses.filter((s) => s === 200).length
    const refused = statuses.filter((s) => s === 429).length
    const ok = t.same([allowed, refused], [100, 900], `burst ${burst + 1}: 1,000 concurrent requests over 3 instances, exactly 100 allowed`)
    if (!ok) t.comment(JSON.stringify({ limiter: apps.map((app) => app.limiter.metrics()), core: apps.map((app) => app.redkit.stats()) }))
  }
  const metrics = apps.map((app) => app.limiter.metrics())
  t.same(metrics.map((m) => m.failedOpen), [0, 0, 0], 'no check failed open')
  t.same(metrics.map((m) => m.deadlineMisses), [0, 0, 0], 'no check missed the deadline')
  t.comment(`checks per instance: ${metrics.map((m) => m.checks).join(', ')}`)
})

test('checks Redis answered while the instance was busy past the deadline are decided, not failed open', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const app = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('rl-busy'), env: {} })
  await app.limiter.check('warm-up')
  for (let round = 0; round < 5; round++) {
    const key = `busy-${round}`
    const decisions = Array.from({ length: 200 }, async () => await app.limiter.check(key, { limit: 100, window: 60_000 }))
    // The checks leave at the end of this turn; Redis answers within a millisecond,
    // but the instance reads the replies only after twice the default deadline of work.
    await new Promise<void>((resolve) => process.nextTick(resolve))
    const until = performance.now() + 200
    while (performance.now() < until) { /* the instance is busy */ }
    const allowed = (await Promise.all(decisions)).filter((d) => d.allowed).length
    t.equal(allowed, 100, `round ${round + 1}: exactly the limit allowed`)
  }
  t.equal(app.limiter.metrics().failedOpen, 0, 'no check failed open')
  t.equal(app.redkit.stats().timeouts, 0, 'no command timed out in core')
})
