import t from 'tap'
import { startRedis, waitFor } from '@redkit/testing'
import { makeApp } from './helpers.js'

const server = await startRedis({ local: true })
t.teardown(server.stop)
const target = { kind: 'redis' as const, url: server.url }

t.test('a paused Redis never fails a request: reads miss and wrap runs the loader', async (t) => {
  const app = await makeApp(t, target, { core: { commandTimeout: 200, maxRetries: 0 } })
  const strict = await makeApp(t, target, { core: { commandTimeout: 200, maxRetries: 0 }, cache: { onRedisError: 'closed' } })
  await app.cache.set('k', 'cached')
  await server.pause()
  t.teardown(async () => { await server.resume().catch(() => {}) })
  try {
    const started = Date.now()
    t.equal(await app.cache.wrap('k', () => 'from loader'), 'from loader')
    t.equal(await app.cache.get('k'), undefined)
    await app.cache.set('k', 'ignored')
    t.equal(await app.cache.del('k'), false)
    t.equal(await app.cache.invalidate({ tags: ['x'] }), 0)
    t.ok(Date.now() - started < 5_000, 'bounded by the command deadline')
    t.ok(app.cache.stats().total.errors >= 5, 'errors are counted')
    await t.rejects(strict.cache.get('k'), { code: 'FST_REDKIT_COMMAND_TIMEOUT' })
    // Once a deadline has passed, core fails further commands at once.
    await t.rejects(strict.cache.wrap('k', () => 1), { code: 'FST_REDKIT_UNAVAILABLE' })
  } finally {
    await server.resume()
  }
  // Commands sent during the pause still run once Redis resumes, so check with a fresh key.
  await waitFor(async () => {
    await app.cache.set('after', 'ok')
    return await app.cache.get('after') === 'ok'
  }, 5000, 'Redis to answer again')
  t.pass('the cache works again after Redis resumes')
})
