import t from 'tap'
import { startRedis } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'
import { assertAllKeysExpire } from './ttl-check.js'

const server = await startRedis()
t.teardown(server.stop)
const target = { kind: 'redis' as const, url: server.url }

contract(t, target)

t.test('scripts survive SCRIPT FLUSH', async (t) => {
  const { cache } = await makeApp(t, target)
  await cache.set('k', 1, { tags: ['x'] })
  await server.client().script('FLUSH')
  await cache.set('k', 2, { tags: ['x'] })
  t.equal(await cache.wrap('w', () => 3), 3)
  t.equal(await cache.invalidate({ tags: ['x'] }), 1)
  t.equal(await cache.get('k'), undefined)
})

t.test('tag sets live at least as long as their longest-lived member', async (t) => {
  const app = await makeApp(t, target)
  const admin = server.client()
  await app.cache.set('long', 1, { ttl: 60_000, tags: ['t'] })
  await app.cache.set('short', 1, { ttl: 1_000, tags: ['t'] })
  const tagKey = `${app.redkit.prefix}cache:{default}:t:t`
  t.ok(await admin.pttl(tagKey) > 50_000)
  t.equal(await admin.zcard(tagKey), 2)
  await app.cache.wrap('stale', () => 1, { ttl: 60_000, staleTtl: 120_000, tags: ['t'] })
  t.ok(await admin.pttl(tagKey) > 170_000)
  t.ok(await admin.pttl(`${app.redkit.prefix}cache:{default}:e:stale`) > 170_000)
})

t.test('clear never touches keys outside the app prefix', async (t) => {
  const app = await makeApp(t, target)
  const admin = server.client()
  const outside = ['a*x', 'abc', `${app.redkit.prefix}cache:{default}:x:a*x`, `${app.redkit.prefix}other:a*x`,
    `x${app.redkit.prefix}cache:{default}:e:a*x`]
  for (const key of outside) await admin.set(key, 'keep', 'PX', 60_000)
  await app.cache.set('a*x', 1)
  t.equal(await app.cache.clear('a*'), 1)
  t.equal(await app.cache.clear(), 0)
  for (const key of outside) t.equal(await admin.get(key), 'keep', key)
  await admin.del(...outside)
})

t.test('clear leaves no tag members behind', async (t) => {
  const app = await makeApp(t, target)
  const admin = server.client()
  const base = `${app.redkit.prefix}cache:{default}:`
  await app.cache.set('p:1', 1, { tags: ['a', 'b'] })
  await app.cache.set('p:2', 2, { tags: ['a'] })
  await app.cache.set('q:1', 3, { tags: ['a', 'c'] })
  t.equal(await app.cache.clear('p:'), 2)
  t.same(await admin.zrange(base + 't:a', '0', '-1'), [base + 'e:q:1'], 'only the remaining entry is filed under a')
  t.equal(await admin.exists(base + 't:b'), 0, 'a tag left without members is gone')
  await app.cache.invalidate({ tags: ['c'] })
  await app.cache.set('q:2', 4, { tags: ['a'] })
  // q:1 counts too unless the collection after invalidating c deleted it first.
  t.ok(await app.cache.clear() >= 1)
  const left: string[] = []
  for await (const key of app.redkit.scan(app.redkit.escapeGlob(base) + '*')) left.push(key.slice(base.length))
  t.same(left.filter((key) => !key.startsWith('v:')).sort(), [], 'no entry, tag set or detached set is left')
})

t.test('zero keys without a TTL after the suite', async (t) => {
  await assertAllKeysExpire(t, server.client())
})
