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
