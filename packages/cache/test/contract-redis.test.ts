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

t.test('zero keys without a TTL after the suite', async (t) => {
  await assertAllKeysExpire(t, server.client())
})
