import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import { makeApp, PREFIX_LABEL, sleep } from './helpers.js'
import { assertAllKeysExpire } from './ttl-check.js'

const server = await startRedis()
t.teardown(server.stop)
const target = { kind: 'redis' as const, url: server.url }

t.test('100 concurrent requests on 2 instances for one cold key run the loader once', async (t) => {
  const keyPrefix = uniquePrefix(PREFIX_LABEL)
  let runs = 0
  const routes = (app: FastifyInstance): void => {
    app.get('/report', async () => await app.cache.wrap('report', async () => {
      runs++
      await sleep(100)
      return { total: 42, at: new Date(5) }
    }))
  }
  const a = await makeApp(t, target, { keyPrefix, routes })
  const b = await makeApp(t, target, { keyPrefix, routes })
  const requests = Array.from({ length: 100 }, async (_, i) => await (i % 2 === 0 ? a : b).inject('/report'))
  const replies = await Promise.all(requests)
  t.equal(runs, 1, 'loader ran once across both instances')
  t.ok(replies.every((r) => r.statusCode === 200 && r.body === replies[0]!.body), 'every request got the same body')
  t.same(replies[0]!.json(), { total: 42, at: new Date(5).toISOString() })
  const waits = a.cache.stats().total.lockWaits + b.cache.stats().total.lockWaits
  t.equal(waits, 1, 'the other instance waited for the lock holder')
})

t.test('a waiter whose lock holder died runs the loader after lockWait', async (t) => {
  const keyPrefix = uniquePrefix(PREFIX_LABEL)
  const app = await makeApp(t, target, { keyPrefix, cache: { lockWait: 300, pollInterval: 50 } })
  await server.client().set(`${keyPrefix}cache:{default}:l:orphan`, 'someone-gone', 'PX', 60_000)
  const started = Date.now()
  t.equal(await app.cache.wrap('orphan', () => 'mine'), 'mine')
  t.ok(Date.now() - started >= 250, 'waited about lockWait first')
  t.match(app.cache.stats().total, { lockWaits: 1, lockTimeouts: 1, loaderRuns: 1 })
})

t.test('a waiter is woken by the fill, well before lockWait', async (t) => {
  const keyPrefix = uniquePrefix(PREFIX_LABEL)
  const a = await makeApp(t, target, { keyPrefix, cache: { lockWait: 20_000, pollInterval: 10_000 } })
  const b = await makeApp(t, target, { keyPrefix, cache: { lockWait: 20_000, pollInterval: 10_000 } })
  let runs = 0
  const loader = async (): Promise<string> => {
    runs++
    await sleep(200)
    return 'filled'
  }
  const first = a.cache.wrap('slow', loader)
  await sleep(50)
  const started = Date.now()
  t.equal(await b.cache.wrap('slow', loader), 'filled')
  t.ok(Date.now() - started < 5_000, 'woken by pub/sub, not by the 10 s poll')
  t.equal(await first, 'filled')
  t.equal(runs, 1)
})

t.test('with L1 on, changes on instance A are seen on B', async (t) => {
  const keyPrefix = uniquePrefix(PREFIX_LABEL)
  const a = await makeApp(t, target, { keyPrefix, cache: { l1: true } })
  const b = await makeApp(t, target, { keyPrefix, cache: { l1: { max: 100, ttl: 60_000 } } })
  const admin = server.client()
  const entry = (key: string): string => `${keyPrefix}cache:{default}:e:${key}`

  await a.cache.set('user:1', { name: 'Ada' }, { tags: ['users'] })
  t.same(await b.cache.get('user:1'), { name: 'Ada' })
  // L1 only serves once B's change subscription is live, which under load can take a moment.
  await waitFor(async () => {
    await b.cache.get('user:1')
    return b.cache.stats().total.l1Hits > 0
  }, 5000, 'B to serve from L1')
  const l1Hits = b.cache.stats().total.l1Hits
  // Change Redis behind the cache's back: B still answers from L1.
  await admin.set(entry('user:1'), `${Date.now() + 60_000}:j{"name":"changed behind the cache"}`, 'PX', 60_000)
  t.same(await b.cache.get('user:1'), { name: 'Ada' })
  t.equal(b.cache.stats().total.l1Hits, l1Hits + 1, 'the read came from L1')

  await a.cache.invalidate({ tags: ['users'] })
  await waitFor(async () => await b.cache.get('user:1') === undefined, 2000, 'B to see the tag invalidation')
  t.pass('tag invalidation on A reached B')

  await a.cache.set('k', 'v1')
  t.equal(await b.cache.get('k'), 'v1')
  await a.cache.set('k', 'v2')
  await waitFor(async () => await b.cache.get('k') === 'v2', 2000, 'B to see the overwrite')
  t.pass('overwrite on A reached B')
  await a.cache.del('k')
  await waitFor(async () => await b.cache.get('k') === undefined, 2000, 'B to see the delete')
  t.pass('delete on A reached B')
  await a.cache.set('p:1', 1)
  t.equal(await b.cache.get('p:1'), 1)
  await a.cache.clear('p:')
  await waitFor(async () => await b.cache.get('p:1') === undefined, 2000, 'B to see the clear')
  t.pass('clear on A reached B')

  // A's own L1 is dropped at once, without waiting for the message.
  await a.cache.set('own', 1, { tags: ['own'] })
  t.equal(await a.cache.get('own'), 1)
  t.equal(await a.cache.get('own'), 1)
  await a.cache.invalidate({ tags: ['own'] })
  t.equal(await a.cache.get('own'), undefined)
})

t.test('zero keys without a TTL after the suite', async (t) => {
  await assertAllKeysExpire(t, server.client())
})
