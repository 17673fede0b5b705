import { test, type Test } from 'tap'
import { useTarget } from '@redkit/testing'
import { contract } from './contract.js'
import { appOn, appsOn, makeApp, sleep } from './helpers.js'
import type { LockPage } from '../src/index.js'
import { resubscribe, SLOW } from './resubscribe.js'
import { LOCK_ACQUIRE } from '../src/lua.js'
import { tiedPaging } from './tied.js'

test('single Redis', async (t) => {
  const target = await useTarget(t, 'redis')
  const { admin, server } = target

  /** The messages published on `channel` from now on, collected by a connection closed at teardown. */
  const collect = async (t: Test, channel: string): Promise<string[]> => {
    const sub = server.client()
    t.teardown(() => sub.disconnect())
    const messages: string[] = []
    sub.on('message', (_channel: string, message: string) => messages.push(message))
    await sub.subscribe(channel)
    return messages
  }

  /**
   * The acquire script (or a variant of its `lua`) run by hand on lock `name`
   * of a fresh prefix: `acquire(owner, ttl, timeout, counterTtl, name[, channel])`.
   */
  const acquireScript = (t: Test, name: string, lua = LOCK_ACQUIRE) => {
    const keyPrefix = target.prefix('lock')
    const client = server.client()
    t.teardown(() => client.disconnect())
    client.defineCommand('acquireByHand', { numberOfKeys: 5, lua })
    const run = client as unknown as { acquireByHand: (...args: Array<string | number>) => Promise<unknown> }
    const b = `${keyPrefix}lock:{${name}}`
    const keys = [`${b}:holder`, `${b}:fence`, `${b}:queue`, `${b}:alive`, `${keyPrefix}lock:registry`]
    return { keyPrefix, keys, acquire: async (...args: Array<string | number>) => await run.acquireByHand(...keys, ...args) }
  }

  /** The server's clock in ms, as the scripts read it. */
  const serverMs = async (): Promise<number> => {
    const [seconds, micros] = await admin.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  t.test('scripts survive SCRIPT FLUSH', async (t) => {
    const { app } = await appOn(t, target)
    const a = await app.locks.acquire('flush')
    await admin.script('FLUSH')
    t.equal(await a.extend(), true)
    t.equal(await a.release(), true)
  })

  t.test('the registry is a skiplist from its first entry, and its keeper member is never listed nor counted', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    const lock = await app.locks.acquire('encoding')
    const registry = `${keyPrefix}lock:registry`
    t.equal(await admin.object('ENCODING', registry), 'skiplist')
    t.equal(await admin.zcard(registry), 2, 'the lock and the keeper')
    t.equal(await app.locks.count(), 1)
    t.same((await app.locks.list()).locks.map((l) => l.name), ['encoding'])
    await lock.release()
    t.equal(await app.locks.count(), 0)
    t.same((await app.locks.list()).locks, [])
    t.equal(await admin.object('ENCODING', registry), 'skiplist', 'kept while nothing is held')
  })

  t.test('entries ending at the same time page fully and each once; cursors of earlier versions still resume', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    await tiedPaging(t, app, admin, [[0, `${keyPrefix}lock:registry`]])
  })

  t.test('key layout: a lock is one string key with its lease as TTL, plus the fencing counter', async (t) => {
    const { app, keyPrefix } = await appOn(t, target, { counterTtl: 3_600_000 })
    const lock = await app.locks.acquire('layout', { ttl: 4000 })
    const holder = `${keyPrefix}lock:{layout}:holder`
    const fence = `${keyPrefix}lock:{layout}:fence`
    t.equal(await admin.type(holder), 'string')
    t.equal(await admin.get(holder), `${lock.token}|${lock.owner}`)
    const pttl = await admin.pttl(holder)
    t.ok(pttl > 3000 && pttl <= 4000, `holder TTL ${pttl}`)
    t.equal(await admin.get(fence), String(lock.token))
    const fencePttl = await admin.pttl(fence)
    t.ok(fencePttl > 3_500_000 && fencePttl <= 3_600_000, `fence TTL ${fencePttl}`)
    t.equal(await admin.exists(`${keyPrefix}lock:{layout}:queue`, `${keyPrefix}lock:{layout}:alive`), 0, 'no queue keys while nobody waits')
    t.equal(await lock.extend(9000), true)
    t.ok(await admin.pttl(holder) > 8000, 'extend sets the TTL of the holder key')
    t.equal(await lock.release(), true)
    t.equal(await admin.exists(holder), 0)
    const sem = await app.locks.semaphore('layout', 2).acquire()
    t.equal(await admin.type(`${keyPrefix}sem:{layout}:holders`), 'zset', 'semaphores keep a sorted set')
    await sem.release()
  })

  t.test('a counter ahead of the clock wins: the token is counter + 1, in the holder key too', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    const fence = `${keyPrefix}lock:{ahead}:fence`
    const ahead = 8_000_000_000_000_000 // year 2223 in µs, still below 2^53
    await admin.set(fence, String(ahead), 'PX', 60_000)
    const lock = await app.locks.acquire('ahead')
    t.equal(lock.token, ahead + 1)
    t.equal(await admin.get(`${keyPrefix}lock:{ahead}:holder`), `${ahead + 1}|${lock.owner}`)
    t.equal(await admin.get(fence), String(ahead + 1))
    t.equal((await app.locks.isLocked('ahead'))?.token, ahead + 1)
    t.equal(await lock.extend(), true)
    t.equal(await lock.release(), true)
  })

  t.test('servers before Redis 7 read the counter with GET: same tokens and keys', async (t) => {
    const lua = LOCK_ACQUIRE.replace('local SET_GET = redis.REDIS_VERSION_NUM ~= nil', 'local SET_GET = false')
    t.not(lua, LOCK_ACQUIRE, 'the version switch is in the script')
    const { keys, acquire } = acquireScript(t, 'old', lua)
    const first = Number(await acquire('me:1', 5000, 0, 60_000, 'old'))
    t.ok(first > 1_600_000_000_000_000, `clock token ${first}`)
    t.equal(await admin.get(keys[1]!), String(first))
    t.equal(await admin.get(keys[0]!), `${first}|me:1`)
    t.ok(await admin.pttl(keys[1]!) > 50_000)
    const held = await acquire('me:2', 5000, 0, 60_000, 'old') as [number, number]
    t.ok(held[0] > 4000 && held[0] <= 5000 && held[1] === 0, `held: ${JSON.stringify(held)}`)
    t.equal(await admin.get(keys[0]!), `${first}|me:1`, 'the holder is untouched')
    await admin.del(keys[0]!)
    await admin.set(keys[1]!, '8000000000000000', 'PX', 60_000)
    t.equal(await acquire('me:3', 5000, 0, 60_000, 'old'), '8000000000000001', 'counter ahead of the clock')
    t.equal(await admin.get(keys[0]!), '8000000000000001|me:3')
    t.equal(await admin.get(keys[1]!), '8000000000000001')
  })

  t.test('release publishes a wake-up only when someone waits', async (t) => {
    const { apps: [a, b], keyPrefix } = await appsOn(t, target, 2)
    const messages = await collect(t, `${keyPrefix}lock:wake`)
    for (let i = 0; i < 20; i++) await (await a!.locks.acquire('quiet')).release()
    await sleep(50)
    t.same(messages, [], 'no waiters, no messages')
    const held = await a!.locks.acquire('quiet', { ttl: 10_000 })
    const waiting = b!.locks.acquire('quiet', { timeout: 5000 })
    await sleep(80)
    await held.release()
    const next = await waiting
    await next.release()
    await sleep(50)
    t.equal(messages.length, 1, 'one message for the one waiter')
    t.equal(messages[0], next.owner, 'addressed to the waiter')
  })

  t.test('a waiter that vanished blocks newcomers only until its lease ends', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    const nowMs = await serverMs()
    // A release handed the lock to the queue ("~"), and the waiter at its head then vanished.
    const holder = `${keyPrefix}lock:{ghost}:holder`
    const queue = `${keyPrefix}lock:{ghost}:queue`
    const alive = `${keyPrefix}lock:{ghost}:alive`
    await admin.set(holder, '~', 'PX', 300)
    await admin.zadd(queue, 1, 'ghost')
    await admin.zadd(alive, nowMs + 300, 'ghost')
    await admin.pexpire(queue, 300)
    await admin.pexpire(alive, 300)
    t.equal(await app.locks.tryAcquire('ghost'), null, 'the waiter ahead keeps its turn')
    const err = await app.locks.acquire('ghost', { timeout: 0 }).catch((e: unknown) => e) as { code: string, holderTtl: number }
    t.equal(err.code, 'FST_REDKIT_LOCK_TIMEOUT')
    t.equal(err.holderTtl, -1, 'free, but a waiter is ahead')
    const lock = await app.locks.acquire('ghost', { timeout: 3000 })
    t.ok(lock.token > 0, 'granted once the silent waiter was pruned')
    t.equal(await admin.zscore(queue, 'ghost'), null)
    await lock.release()
  })

  t.test('waiters mark the holder key; a marked release hands the lock to the queue', async (t) => {
    const { apps: [a, b, c], keyPrefix } = await appsOn(t, target, 3)
    const holder = `${keyPrefix}lock:{mark}:holder`
    const first = await a!.locks.acquire('mark', { ttl: 10_000 })
    t.equal(await admin.get(holder), `${first.token}|${first.owner}`, 'no mark while nobody waits')
    const waiting = b!.locks.acquire('mark', { ttl: 10_000, timeout: 5000 })
    await sleep(80)
    t.equal(await admin.get(holder), `${first.token}|${first.owner}|w`, 'a refused waiter marks the holder')
    t.equal((await a!.locks.isLocked('mark'))?.owner, first.owner, 'inspect reads through the mark')
    t.equal(await first.extend(10_000), true, 'the holder still extends')
    await first.release()
    const second = await waiting
    t.ok(second.token > first.token)
    t.equal(await admin.get(holder), `${second.token}|${second.owner}`, 'the last waiter took the lock without a mark')
    t.equal(await c!.locks.tryAcquire('mark'), null)
    await second.release()
    t.equal(await admin.exists(holder), 0)
  })

  t.test('while the queue has its turn, the holder key is "~" and keeps newcomers out', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    const holder = `${keyPrefix}lock:{turn}:holder`
    const queue = `${keyPrefix}lock:{turn}:queue`
    const alive = `${keyPrefix}lock:{turn}:alive`
    const lock = await app.locks.acquire('turn', { ttl: 10_000 })
    const nowMs = await serverMs()
    // A waiter of another instance that does not retry during this test.
    await admin.zadd(queue, 1, 'other:1')
    await admin.zadd(alive, nowMs + 5000, 'other:1')
    await admin.pexpire(queue, 5000)
    await admin.pexpire(alive, 5000)
    await admin.set(holder, `${lock.token}|${lock.owner}|w`, 'KEEPTTL')
    t.equal(await lock.release(), true)
    t.equal(await admin.get(holder), '~')
    const pttl = await admin.pttl(holder)
    t.ok(pttl > 4000 && pttl <= 5000, `the turn lasts as long as the queue: ${pttl}`)
    t.equal(await app.locks.isLocked('turn'), null, 'free, as far as inspect is concerned')
    t.equal(await app.locks.tryAcquire('turn'), null, 'a newcomer does not jump the queue')
    t.equal(await lock.extend(), false, 'the old holder cannot extend')
    t.equal(await lock.release(), false)
    await admin.zrem(queue, 'other:1')
    await admin.zrem(alive, 'other:1')
    const next = await app.locks.tryAcquire('turn')
    t.ok(next !== null && next.token > lock.token, 'with no live waiter left, the turn passes to anyone')
    t.equal(await admin.get(holder), `${next!.token}|${next!.owner}`)
    await next?.release()
  })

  t.test('after a lease runs out, the waiter that takes the lock marks it for those behind', async (t) => {
    const { apps: [a, b, c], keyPrefix } = await appsOn(t, target, 3)
    const holder = `${keyPrefix}lock:{lapse}:holder`
    const messages = await collect(t, `${keyPrefix}lock:wake`)
    await a!.locks.acquire('lapse', { ttl: 300 })
    const firstWaiter = b!.locks.acquire('lapse', { ttl: 10_000, timeout: 5000 })
    await sleep(50)
    const secondWaiter = c!.locks.acquire('lapse', { ttl: 10_000, timeout: 5000 })
    const next = await firstWaiter
    t.equal(await admin.get(holder), `${next.token}|${next.owner}|w`, 'marked: one more waits')
    await next.release()
    const last = await secondWaiter
    t.ok(last.token > next.token)
    await sleep(30)
    t.ok(messages.includes(last.owner), 'the release woke the waiter behind')
    await last.release()
  })

  t.test('after a lease runs out, a waiter behind another gives the turn to the one ahead', async (t) => {
    const { keyPrefix, keys, acquire } = acquireScript(t, 'order')
    const channel = `${keyPrefix}lock:wake`
    const messages = await collect(t, channel)
    t.type(await acquire('x:0', 200, 0, 60_000, 'order'), 'string', 'held by x:0')
    const refused = await acquire('x:1', 5000, 2000, 60_000, 'order') as [number, number]
    t.ok(refused[0] > 0 && refused[1] === 1, `x:1 queues first: ${JSON.stringify(refused)}`)
    await acquire('x:2', 5000, 2000, 60_000, 'order')
    await admin.del(keys[0]!) // the lease of x:0 runs out
    t.same(await acquire('x:2', 5000, 2000, 60_000, 'order', channel), [-1, 1], 'x:2 retries first and is refused')
    t.equal(await admin.get(keys[0]!), '~', 'the queue has its turn')
    await sleep(30)
    t.same(messages, ['x:1'], 'the waiter ahead is woken')
    const token = await acquire('x:1', 5000, 2000, 60_000, 'order', channel) as string
    t.equal(await admin.get(keys[0]!), `${token}|x:1|w`, 'x:1 holds it, marked for x:2')
    t.same(await admin.zrange(keys[2]!, '0', '-1'), ['x:2'])
  })

  t.test('a page of list() and count() cost a few commands, however many locks are held', async (t) => {
    const { app } = await appOn(t, target)
    const held = []
    for (let i = 0; i < 600; i += 100) {
      held.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => await app.locks.acquire(`cost:${i + k}`, { ttl: 30_000 }))))
    }
    /** Commands the server ran during fn, by name. */
    const commands = async (fn: () => Promise<unknown>): Promise<Record<string, number>> => {
      await admin.config('RESETSTAT')
      await fn()
      const info = await admin.info('commandstats')
      const out: Record<string, number> = {}
      for (const [, name, calls] of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
        if (name !== 'config' && name !== 'info') out[name!] = Number(calls)
      }
      return out
    }
    let page: LockPage | undefined
    const listed = await commands(async () => { page = await app.locks.list({ limit: 10 }) })
    t.equal(page?.locks.length, 10)
    t.notOk('scan' in listed, 'no SCAN')
    const scripts = (listed.evalsha ?? 0) + (listed.eval ?? 0)
    t.ok(scripts <= 2, `one script per page: ${JSON.stringify(listed)}`)
    let count = 0
    const counted = await commands(async () => { count = await app.locks.count() })
    t.equal(count, 600)
    t.ok((counted.evalsha ?? 0) + (counted.eval ?? 0) <= 2, `one script to count: ${JSON.stringify(counted)}`)
    await Promise.all(held.map(async (l) => await l.release()))
    t.equal(await app.locks.count(), 0)
  })

  t.test('the registry drops ended leases even when nobody lists it', async (t) => {
    const { app, keyPrefix } = await appOn(t, target)
    // Leases long enough that none ends during the burst on a busy machine, short enough to wait out.
    await Promise.all(Array.from({ length: 100 }, async (_, i) => await app.locks.acquire(`gone:${i}`, { ttl: 2000 })))
    const registry = `${keyPrefix}lock:registry`
    t.equal(await admin.zcard(registry), 101, 'a hundred entries and the keeper')
    await sleep(2100)
    for (let i = 0; i < 200; i++) await (await app.locks.acquire('busy', { ttl: 5000 })).release()
    t.equal(await admin.zcard(registry), 1, 'grants pruned the ended leases')
    t.ok(await admin.pttl(registry) > 0, 'the registry has a TTL')
  })

  t.test('the wake-up subscription is retried until it works, and waiters are woken again', async (t) => {
    const keyPrefix = target.prefix('lock')
    await resubscribe(t, {
      nodes: [admin],
      app: async (user) => await makeApp({ ...target.core, url: server.url.replace('redis://', `redis://${user}:pw@`), keyPrefix }, SLOW)
    })
  })

  contract(t, target)
})
