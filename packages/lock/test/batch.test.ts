import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { LOCK_BATCH } from '../src/lua.js'
import { appOn, code } from './helpers.js'

test('LOCK_BATCH run by hand: acquires and releases in order, each answered on its own', async (t) => {
  const target = await useTarget(t, 'redis')
  const redis = target.server.client()
  t.teardown(() => { redis.disconnect() })
  const sub = target.server.client()
  t.teardown(() => { sub.disconnect() })
  const woken: string[] = []
  sub.on('message', (_: string, message: string) => woken.push(message))
  await sub.subscribe('b:wake')
  const k = (name: string, part: string): string => `b:lock:{${name}}:${part}`
  // 'ahead' has a counter past the clock, 'taken' a holder, 'waited' a holder marked by a live waiter.
  await redis.set(k('ahead', 'fence'), '99999999999999999', 'PX', 60_000)
  await redis.set(k('taken', 'holder'), '5|other', 'PX', 60_000)
  await redis.set(k('waited', 'holder'), '7|me|w', 'PX', 60_000)
  await redis.zadd(k('waited', 'queue'), 1, 'next')
  await redis.zadd(k('waited', 'alive'), Date.now() + 60_000, 'next')
  await redis.pexpire(k('waited', 'queue'), 60_000)
  await redis.pexpire(k('waited', 'alive'), 60_000)
  await redis.hset(k('hash', 'fence'), 'x', '1')
  await redis.pexpire(k('hash', 'fence'), 60_000)
  await redis.zadd('b:registry', 2e15, 'l|7|me|waited')
  const items = [
    ['a', 'free', 'me', 'free'],
    ['a', 'ahead', 'me', 'ahead'],
    ['a', 'taken', 'me', 'taken'],
    ['r', 'waited', '7|me', 'l|7|me|waited'],
    ['r', 'taken', '4|me', 'l|4|me|taken'],
    ['a', 'hash', 'me', 'hash']
  ]
  const keys = ['b:registry']
  const args: Array<string | number> = [items.length, 86_400_000, 'b:wake']
  for (const [op, name, who, entry] of items) {
    if (op === 'a') {
      keys.push(k(name!, 'holder'), k(name!, 'fence'))
      args.push('a', who!, 10_000, entry!)
    } else {
      keys.push(k(name!, 'holder'), k(name!, 'queue'), k(name!, 'alive'))
      args.push('r', who!, entry!)
    }
  }
  const replies = await redis.eval(LOCK_BATCH, keys.length, ...keys, ...args) as unknown[]
  t.match(replies[0], /^\d{16}$/, 'a free lock is granted a clock token')
  t.equal(replies[1], '100000000000000000', 'a counter ahead of the clock gives its next value')
  t.equal(replies[2], -1, 'a taken lock is left to the lock script')
  t.equal(replies[3], 1, 'the holder marked by a waiter releases')
  t.equal(replies[4], 0, 'a release by a former holder changes nothing')
  t.match(replies[5], [/WRONGTYPE/], 'a key of the wrong type fails its item alone')
  t.equal(await redis.get(k('free', 'holder')), `${replies[0] as string}|me`)
  t.equal(await redis.get(k('ahead', 'holder')), '100000000000000000|me')
  t.equal(await redis.get(k('taken', 'holder')), '5|other')
  t.equal(await redis.get(k('waited', 'holder')), '~', 'the queue has its turn')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(woken, ['next'], 'its head is woken')
  const registry = await redis.zrange('b:registry', '0', '-1')
  t.same(registry.filter((e) => !e.startsWith('~')).sort(), [`l|${replies[0] as string}|me|free`, 'l|100000000000000000|me|ahead'].sort())
  t.ok(await redis.pttl('b:registry') > 10_000, 'the registry outlives the leases it lists')
})

test('acquires issued together: one that hits a key of the wrong type fails alone', async (t) => {
  const target = await useTarget(t, 'redis')
  const { app, keyPrefix } = await appOn(t, target)
  // The fence, not the holder: SET NX on a taken key of any type just fails.
  await target.admin.hset(`${keyPrefix}lock:{wrong}:fence`, 'x', '1')
  await target.admin.pexpire(`${keyPrefix}lock:{wrong}:fence`, 60_000)
  const [a, wrong, b] = await Promise.allSettled([
    app.locks.acquire('fine-a'),
    app.locks.acquire('wrong'),
    app.locks.acquire('fine-b')
  ])
  t.equal(a.status, 'fulfilled')
  t.equal(b.status, 'fulfilled')
  t.equal(wrong.status === 'rejected' ? code(wrong.reason) : 'fulfilled', 'FST_REDKIT_LOCK_UNAVAILABLE')
  t.match(wrong.status === 'rejected' ? (wrong.reason as Error).cause : undefined, { message: /WRONGTYPE/ })
  t.equal(await app.locks.count(), 2)
})
