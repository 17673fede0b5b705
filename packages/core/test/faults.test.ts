import { test, type Test } from 'tap'
import { startRedis, uniquePrefix, waitFor, type RedisServer } from '@redkit/testing'
import type { RedkitOptions } from '../src/index.js'
import { buildApp, type TestApp } from './helpers.js'

const DEADLINE = 300

/** A redis-server of the test's own, to kill or pause, and an app on it with a short deadline. */
async function onOwnServer (t: Test, core: RedkitOptions = {}): Promise<TestApp & { server: RedisServer }> {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  return { server, ...await buildApp(t, { url: server.url, commandTimeout: DEADLINE, keyPrefix: uniquePrefix(), ...core }) }
}

async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, value?: T, err?: Error & { code?: string } }> {
  const started = performance.now()
  try {
    const value = await fn()
    return { ms: performance.now() - started, value }
  } catch (err) {
    return { ms: performance.now() - started, err: err as Error & { code?: string } }
  }
}

test('SIGKILL and restart mid-run: commands fail within the deadline, then recover', async (t) => {
  const { server, app, logs } = await onOwnServer(t)
  const key = app.redkit.key('k')
  await app.redkit.client!.set(key, '1', 'PX', 60_000)

  await server.kill()
  const results = await Promise.all(Array.from({ length: 20 }, async () => await timed(async () => await app.redkit.client!.get(key))))
  for (const r of results) {
    t.ok(r.err !== undefined, 'command fails while Redis is down')
    t.ok(['FST_REDKIT_COMMAND_TIMEOUT', 'FST_REDKIT_UNAVAILABLE'].includes(r.err?.code ?? ''), `coded error: ${r.err?.code}`)
    t.ok(r.ms < DEADLINE + 200, `failed within the deadline (${Math.round(r.ms)} ms)`)
  }
  const health = await app.redkit.health()
  t.equal(health.status, 'down')

  await server.restart()
  await waitFor(async () => await app.redkit.client!.ping() === 'PONG', 10_000, 'client to reconnect')
  t.equal(await app.redkit.client!.set(key, '2', 'PX', 60_000), 'OK', 'commands work again after restart')
  t.equal((await app.redkit.health()).status, 'ok')
  await waitFor(() => logs.lines.some((l) => l.includes('Redis connection recovered')), 2000, 'recovery log')
  t.ok(logs.lines.some((l) => l.includes('Redis connection lost')), 'loss is logged')
  t.ok(app.redkit.stats().reconnects >= 1, 'reconnect counted')
  t.ok(app.redkit.stats().errors >= 20, 'errors counted')
})

test('SIGSTOP: no call outlives the deadline by more than 200 ms', async (t) => {
  const { server, app, logs } = await onOwnServer(t)
  const key = app.redkit.key('k')
  await app.redkit.client!.set(key, '1', 'PX', 60_000)

  await server.pause()
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await timed(async () => i % 2 === 0 ? await app.redkit.client!.get(key) : await app.redkit.client!.incr(app.redkit.key('n')))))
  const worst = Math.max(...results.map((r) => r.ms))
  t.ok(results.every((r) => r.err?.code === 'FST_REDKIT_COMMAND_TIMEOUT'), 'every call times out with a coded error')
  t.ok(worst < DEADLINE + 200, `slowest call ${Math.round(worst)} ms`)
  t.ok(app.redkit.stats().timeouts >= 50)
  const health = await app.redkit.health()
  t.equal(health.status, 'down', 'health reports down within its own deadline')

  const fastFailedBefore = app.redkit.stats().fastFailed
  const second = await Promise.all(Array.from({ length: 20 }, async () => await timed(async () => await app.redkit.client!.get(key))))
  const fast = second.filter((r) => r.err?.code === 'FST_REDKIT_UNAVAILABLE')
  t.equal(fast.length, 20, 'once a deadline passed, every call fails at once: the probing is core\'s own PING')
  t.equal(app.redkit.stats().fastFailed - fastFailedBefore, 20, 'each failed without being sent to Redis')
  t.ok(fast.every((r) => r.ms < DEADLINE), `fast failures take no deadline (slowest ${Math.round(Math.max(...fast.map((r) => r.ms)))} ms)`)
  t.ok(logs.lines.some((l) => l.includes('failing fast until it answers again')), 'failing fast is logged')

  await server.resume()
  await waitFor(async () => await app.redkit.client!.get(key).catch(() => null) === '1', 5000, 'commands to flow after resume')
  t.pass('recovers after SIGCONT')
  await waitFor(() => logs.lines.some((l) => l.includes('no longer failing fast')), 2000, 'recovery log')
  t.equal(await app.redkit.client!.get(key), '1', 'commands flow normally again')
  t.ok(app.redkit.stats().fastFailed >= 19)
})

test('SIGSTOP: a request that calls Redis again after a timeout still costs one deadline', async (t) => {
  const { server, app } = await onOwnServer(t)
  await app.redkit.client!.ping()
  await server.pause()
  // Like a cache read that fails and falls through to a loader that reads Redis too.
  const request = await timed(async () => {
    await app.redkit.client!.get(app.redkit.key('cached')).catch(() => null)
    return await app.redkit.client!.hgetall(app.redkit.key('source')).catch((err: Error & { code?: string }) => err.code)
  })
  t.equal(request.value, 'FST_REDKIT_UNAVAILABLE', 'the second call fails at once')
  t.ok(request.ms < DEADLINE + 200, `the whole request took ${Math.round(request.ms)} ms`)
  await server.resume()
  await waitFor(async () => await app.redkit.client!.ping().catch(() => null) === 'PONG', 5000, 'recovery after SIGCONT')
  t.pass('recovers')
})

test('SIGSTOP with failFast off: every call waits out its own deadline', async (t) => {
  const { server, app } = await onOwnServer(t, { failFast: false })
  await app.redkit.client!.ping()
  await server.pause()
  await timed(async () => await app.redkit.client!.ping())
  const later = await Promise.all(Array.from({ length: 5 }, async () => await timed(async () => await app.redkit.client!.ping())))
  t.ok(later.every((r) => r.err?.code === 'FST_REDKIT_COMMAND_TIMEOUT' && r.ms >= DEADLINE - 20), 'no fast failures')
  await server.resume()
})

test('the offline queue is bounded while reconnecting', async (t) => {
  const { server, app } = await onOwnServer(t, { commandTimeout: 2000, maxOfflineQueue: 10 })
  await server.kill()
  await waitFor(() => app.redkit.client!.status === 'reconnecting' || app.redkit.client!.status === 'connecting', 3000, 'client to notice')
  const results = await Promise.all(Array.from({ length: 30 }, async () => await timed(async () => await app.redkit.client!.get('x'))))
  const rejected = results.filter((r) => r.err?.code === 'FST_REDKIT_OFFLINE_QUEUE_FULL')
  t.equal(rejected.length, 20, '20 of 30 commands fail at once with a full queue')
  t.ok(rejected.every((r) => r.ms < 2000), 'rejected without waiting for the reconnect or the deadline')
  t.equal(app.redkit.stats().offlineRejected, 20)
  await server.restart()
})

test('SIGKILL: the first command costs one deadline at most, the next ones fail fast', async (t) => {
  // With the default deadline, ioredis gives up on a queued command after
  // maxRetries reconnect attempts, well before the deadline: that too means
  // Redis is gone, and the next command must not wait a deadline to learn it.
  const deadline = 1000
  const { server, app, logs } = await onOwnServer(t, { commandTimeout: deadline })
  const client = app.redkit.client!
  await client.ping()
  await server.kill()
  const first = await timed(async () => await client.get(app.redkit.key('k')))
  t.ok(['FST_REDKIT_COMMAND_TIMEOUT', 'FST_REDKIT_UNAVAILABLE'].includes(first.err?.code ?? ''), `first call: ${first.err?.code}`)
  t.ok(first.ms < deadline + 200, `first call failed within one deadline (${Math.round(first.ms)} ms)`)
  const later: Array<Awaited<ReturnType<typeof timed>>> = []
  for (let i = 0; i < 5; i++) later.push(await timed(async () => await client.get(app.redkit.key('k'))))
  t.same(later.map((r) => r.err?.code), Array(5).fill('FST_REDKIT_UNAVAILABLE'), 'the next calls fail with a coded error')
  const slowest = Math.max(...later.map((r) => r.ms))
  t.ok(slowest < deadline / 5, `and at once, without waiting a deadline (slowest ${Math.round(slowest)} ms)`)
  t.ok(logs.lines.some((l) => l.includes('failing fast until it answers again')), 'failing fast is logged')
  await server.restart()
  await waitFor(async () => await client.ping().catch(() => null) === 'PONG', 10_000, 'recovery after restart')
  t.equal(await client.set(app.redkit.key('k'), '1', 'PX', 10_000), 'OK', 'commands flow again')
})
