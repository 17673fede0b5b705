import { test, type Test } from 'tap'
import { startRedis } from '@redkit/testing'
import { SAVE_BATCH } from '../src/lua.js'

/** A client of a redis-server of the test's own, both gone at teardown. */
async function privateRedis (t: Test): Promise<ReturnType<Awaited<ReturnType<typeof startRedis>>['client']>> {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const redis = server.client()
  t.teardown(() => { redis.disconnect() })
  return redis
}

// The batch script's KEYS vary per session (a tombstone only for 'n', an
// index only with a user), so a batch mixing every kind checks that each
// session reads its own keys.
test('SAVE_BATCH: fresh and new sessions, with and without a user, in one call', async (t) => {
  const redis = await privateRedis(t)
  const sess = (id: string): string => `t:sess:{${id}}`
  const gone = (id: string): string => `t:sess-gone:{${id}}`
  const index = (user: string): string => `t:sess-user:{${user}}`
  await redis.set(gone('buried'), '1', 'PX', 60_000)
  const sessions = [
    { mode: 'f', id: 'fresh-a', user: '' },
    { mode: 'n', id: 'buried', user: 'ann' },
    { mode: 'f', id: 'fresh-b', user: 'ann' },
    { mode: 'n', id: 'new-c', user: '' },
    { mode: 'n', id: 'new-d', user: 'bob' },
    { mode: 'f', id: 'fresh-e', user: 'bob' }
  ]
  const keys = ['t:reg', 't:reg-users']
  const args: Array<string | number> = [sessions.length]
  for (const [i, s] of sessions.entries()) {
    keys.push(sess(s.id))
    if (s.mode === 'n') keys.push(gone(s.id))
    if (s.user !== '') keys.push(index(s.user))
    args.push(s.mode, 60_000 + i, 1, s.id, s.user, '.v', String(i))
  }
  const replies = await redis.eval(SAVE_BATCH, keys.length, ...keys, ...args)
  t.same(replies, [1, 0, 1, 1, 1, 1], 'the tombstoned id alone is refused')
  for (const [i, s] of sessions.entries()) {
    if (s.id === 'buried') {
      t.equal(await redis.exists(sess(s.id)), 0, 'the destroyed id stays destroyed')
      continue
    }
    t.same(await redis.hgetall(sess(s.id)), { '.v': String(i) }, `${s.id} is written`)
    const ttl = await redis.pttl(sess(s.id))
    t.ok(ttl > 50_000 && ttl <= 60_000 + i, `${s.id} expires with its own ttl`)
    t.equal(await redis.exists(gone(s.id)), 0, `${s.id} has no tombstone`)
  }
  t.same((await redis.zrange('t:reg', '0', '-1')).sort(), ['fresh-a', 'fresh-b', 'fresh-e', 'new-c', 'new-d'], 'the registry has every written session')
  const score = Number(await redis.zscore('t:reg', 'fresh-e'))
  const ttl = await redis.pttl(sess('fresh-e'))
  const [now] = await redis.time()
  t.ok(Math.abs(score - (Number(now) * 1000 + ttl)) < 2000 && Number.isInteger(score), 'a registry score is the expiry in ms on the server clock')
  t.same(await redis.zrange(index('ann'), '0', '-1'), ['fresh-b'])
  t.same((await redis.zrange(index('bob'), '0', '-1')).sort(), ['fresh-e', 'new-d'])
  t.same((await redis.zrange('t:reg-users', '0', '-1')).sort(), ['ann', 'bob'], 'the users registry has both users')
  for (const key of [...(await redis.keys('t:*'))]) {
    if (key === gone('buried')) continue
    t.ok(await redis.pttl(key) > 0, `${key} has a TTL`)
  }
})

// An update checks its hash, not a tombstone, and moves its registry score.
test('SAVE_BATCH: updates beside first saves; an update of a destroyed session alone is refused', async (t) => {
  const redis = await privateRedis(t)
  const sess = (id: string): string => `u:sess:{${id}}`
  const index = (user: string): string => `u:sess-user:{${user}}`
  await redis.hset(sess('kept'), '.v', 'old', '.w', 'untouched')
  await redis.pexpire(sess('kept'), 1000)
  await redis.zadd('u:reg', 1, 'kept', 1, 'gone')
  await redis.pexpire('u:reg', 60_000)
  const sessions = [
    { mode: 'u', id: 'kept', user: 'cat' },
    { mode: 'u', id: 'gone', user: '' },
    { mode: 'f', id: 'fresh', user: '' }
  ]
  const keys = ['u:reg', 'u:reg-users']
  const args: Array<string | number> = [sessions.length]
  for (const s of sessions) {
    keys.push(sess(s.id))
    if (s.user !== '') keys.push(index(s.user))
    args.push(s.mode, 60_000, 1, s.id, s.user, '.v', 'new')
  }
  t.same(await redis.eval(SAVE_BATCH, keys.length, ...keys, ...args), [1, 0, 1])
  t.same(await redis.hgetall(sess('kept')), { '.v': 'new', '.w': 'untouched' }, 'the update writes its field and keeps the others')
  t.ok(await redis.pttl(sess('kept')) > 50_000, 'the update moves the expiry')
  t.equal(await redis.exists(sess('gone')), 0, 'the destroyed session is not brought back')
  t.ok(Number(await redis.zscore('u:reg', 'kept')) > 1, 'the registry score of the update moved')
  t.same(await redis.zrange(index('cat'), '0', '-1'), ['kept'])
  t.same(await redis.zrange('u:reg-users', '0', '-1'), ['cat'])
})
