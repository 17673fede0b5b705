import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import { logCapture, startRedis, uniquePrefix } from '@redkit/testing'
import locks from '../src/index.js'
import { code, makeApp } from './helpers.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => { unhandled.push(reason) })

const fast = { commandTimeout: 300, maxRetries: 0, env: {} }

test("onRedisError 'closed' (default) fails with RedisUnavailableError and never hangs", async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const app = await makeApp({ url: server.url, keyPrefix: uniquePrefix('lock'), ...fast })
  t.teardown(async () => await app.close())
  const held = await app.locks.acquire('down', { ttl: 5000 })
  await server.kill()
  const started = performance.now()
  t.equal(code(await app.locks.acquire('x').catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(code(await app.locks.tryAcquire('x').catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(code(await held.extend().catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(held.lost, false, 'a failed extend does not drop a lock that may still be held')
  t.equal(code(await held.release().catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(code(await app.locks.isLocked('x').catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(code(await app.locks.list().catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  let ran = false
  t.equal(code(await app.locks.withLock('x', () => { ran = true }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.equal(ran, false)
  t.ok(performance.now() - started < 8000, 'every call answered within its deadline')
  t.same(unhandled, [])
})

test("onRedisError 'open' runs the work without a lock and logs a warning", async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  await app.register(redkit, { url: server.url, keyPrefix: uniquePrefix('lock'), ...fast })
  await app.register(locks, { onRedisError: 'open' })
  app.post('/job', { config: { lock: { key: () => 'job' } } }, async (req) => ({ degraded: req.lock?.degraded, token: req.lock?.token }))
  t.teardown(async () => await app.close())
  await server.kill()
  const lock = await app.locks.acquire('open')
  t.equal(lock.degraded, true)
  t.equal(lock.token, 0, 'token 0 is refused by any resource that checks fencing tokens')
  t.equal(lock.signal.aborted, false)
  t.equal(await lock.extend(), false)
  t.equal(await lock.release(), false)
  t.equal((await app.locks.tryAcquire('open'))?.degraded, true)
  t.equal(await app.locks.withLock('open', (signal, l) => l.degraded), true)
  const res = await app.inject({ method: 'POST', url: '/job' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { degraded: true, token: 0 })
  t.ok(logs.records().some((r) => String(r.msg).includes('running without the lock')), 'warning logged')
  t.notOk(logs.lines.some((l) => l.includes('password')), 'no credentials in logs')
})

test('a route answers 503 when Redis is down and onRedisError is closed', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const app = Fastify()
  await app.register(redkit, { url: server.url, keyPrefix: uniquePrefix('lock'), ...fast })
  await app.register(locks)
  app.post('/job', { config: { lock: { key: () => 'job' } } }, async () => 'ran')
  t.teardown(async () => await app.close())
  await server.kill()
  const res = await app.inject({ method: 'POST', url: '/job' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'FST_REDKIT_LOCK_UNAVAILABLE')
})

test('the fencing counter key has the long counterTtl', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const keyPrefix = uniquePrefix('lock')
  const app = await makeApp({ url: server.url, keyPrefix, ...fast }, { counterTtl: 7 * 24 * 3600 * 1000 })
  t.teardown(async () => await app.close())
  const lock = await app.locks.acquire('ttl', { ttl: 1000 })
  const admin = server.client()
  const fence = app.redkit.key('lock', '{ttl}', 'fence')
  const pttl = await admin.pttl(fence)
  t.ok(pttl > 6 * 24 * 3600 * 1000 && pttl <= 7 * 24 * 3600 * 1000, `fence TTL ${pttl}`)
  t.ok(await admin.pttl(app.redkit.key('lock', '{ttl}', 'holder')) > 0)
  await lock.release()
  admin.disconnect()
})
