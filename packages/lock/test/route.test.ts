import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import { startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import locks from '../src/index.js'
import { sleep } from './helpers.js'

function gate (): { wait: Promise<void>, open: () => void } {
  let open = (): void => {}
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}

test('route-level locks serialise a handler per key across instances', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const keyPrefix = uniquePrefix('lock')
  const blocker = gate()
  const tokens: number[] = []
  const build = async (): Promise<Array<ReturnType<typeof Fastify>>> => {
    const out = []
    for (let i = 0; i < 2; i++) {
      const app = Fastify()
      await app.register(redkit, { url: server.url, keyPrefix, env: {} })
      await app.register(locks, { ttl: 300 })
      app.post<{ Params: { id: string } }>('/jobs/:id', {
        config: { lock: { key: (req) => `job:${(req.params as { id: string }).id}`, timeout: 0 } }
      }, async (req) => {
        tokens.push(req.lock!.token)
        if ((req.params).id === 'slow') await blocker.wait
        return { token: req.lock!.token }
      })
      app.post('/wait/:id', {
        config: { lock: { key: (req) => `job:${(req.params as { id: string }).id}`, timeout: 3000, statusCode: 409 } }
      }, async (req) => ({ token: req.lock!.token }))
      app.post('/soon/:id', {
        config: { lock: { key: (req) => `job:${(req.params as { id: string }).id}`, timeout: 100, statusCode: 409 } }
      }, async () => 'ok')
      app.get('/free', async (req) => ({ lock: req.lock }))
      await app.ready()
      out.push(app)
    }
    return out
  }
  const [a, b] = await build()
  t.teardown(async () => { await a!.close(); await b!.close() })

  const slow = a!.inject({ method: 'POST', url: '/jobs/slow' })
  await sleep(100)
  const refused = await b!.inject({ method: 'POST', url: '/jobs/slow' })
  t.equal(refused.statusCode, 423)
  t.equal(refused.json().code, 'FST_REDKIT_LOCK_TIMEOUT')
  t.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After ${refused.headers['retry-after']}`)
  const conflict = await b!.inject({ method: 'POST', url: '/soon/slow' })
  t.equal(conflict.statusCode, 409, 'per-route status code')
  t.ok(conflict.headers['retry-after'])
  const other = await b!.inject({ method: 'POST', url: '/jobs/other' })
  t.equal(other.statusCode, 200, 'another key is not blocked')

  // The slow handler outlives its 300 ms lease; the lock is extended meanwhile.
  const waiting = b!.inject({ method: 'POST', url: '/wait/slow' })
  await sleep(600)
  blocker.open()
  const first = await slow
  t.equal(first.statusCode, 200)
  const second = await waiting
  t.equal(second.statusCode, 200, 'a waiting request runs once the first finishes')
  t.ok(second.json().token > first.json().token)
  await waitFor(async () => await a!.locks.isLocked('job:slow') === null, 2000, 'release after the response')
  t.pass('released after the response')
  t.equal((await a!.inject('/free')).json().lock, null, 'routes without config.lock have no lock')
})

test('invalid route lock config fails at registration', async (t) => {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(locks)
  t.teardown(async () => await app.close())
  t.throws(() => app.get('/x', { config: { lock: { key: 'nope' as unknown as () => string } } }, async () => 'x'), { code: 'FST_REDKIT_LOCK_INVALID_OPTION' })
  t.throws(() => app.get('/y', { config: { lock: { key: () => 'k', ttl: 0 } } }, async () => 'x'), { code: 'FST_REDKIT_LOCK_INVALID_OPTION' })
})

test('a route lock is released before the response is sent; a streamed body keeps it until it ends', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const keyPrefix = uniquePrefix('lock')
  // Slow onResponse work (an access log shipper, metrics) must not hold the lock past the response.
  const slowLog = gate()
  const streamDone = gate()
  const build = async (): Promise<ReturnType<typeof Fastify>> => {
    const app = Fastify()
    await app.register(redkit, { url: server.url, keyPrefix, env: {} })
    await app.register(locks)
    app.addHook('onResponse', async () => { await slowLog.wait })
    const config = { lock: { key: () => 'order:1', timeout: 0 } }
    app.post('/pay', { config }, async (req) => ({ token: req.lock!.token }))
    app.get('/export', { config }, async (req, reply) => {
      const { Readable } = await import('node:stream')
      const body = new Readable({ read () {} })
      body.push('first row\n')
      streamDone.wait.then(() => body.push(null), () => {})
      return reply.type('text/plain').send(body)
    })
    await app.ready()
    return app
  }
  const a = await build()
  const b = await build()
  t.teardown(async () => { slowLog.open(); streamDone.open(); await a.close(); await b.close() })

  const first = await a.inject({ method: 'POST', url: '/pay' })
  t.equal(first.statusCode, 200)
  const next = await b.inject({ method: 'POST', url: '/pay' })
  t.equal(next.statusCode, 200, 'the next request, on another instance, gets the lock while onResponse still runs')
  t.ok(next.json().token > first.json().token)

  const address = await a.listen({ port: 0, host: '127.0.0.1' })
  const res = await fetch(`${address}/export`)
  const reader = res.body!.getReader()
  t.match(new TextDecoder().decode((await reader.read()).value), 'first row')
  t.equal((await b.inject({ method: 'POST', url: '/pay' })).statusCode, 423, 'held while the body streams')
  streamDone.open()
  while (!(await reader.read()).done);
  await waitFor(async () => (await b.inject({ method: 'POST', url: '/pay' })).statusCode === 200, 2000, 'released once the stream ended')
  t.pass('released once the stream ended')
})
