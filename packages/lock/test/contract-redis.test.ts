import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { keysWithoutTtl, startRedis, uniquePrefix } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp, sleep } from './helpers.js'
import { LOCK_ACQUIRE } from '../src/lua.js'

test('single Redis', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  const prefixes: string[] = []

  const rewindCounters = async (app: FastifyInstance, by: number): Promise<number> => {
    let n = 0
    for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) {
      await admin.decrby(key, by)
      n++
    }
    return n
  }

  const dropCounters = async (app: FastifyInstance): Promise<number> => {
    let n = 0
    for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) n += await admin.del(key)
    return n
  }

  t.test('scripts survive SCRIPT FLUSH', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ url: server.url, keyPrefix, env: {} })
    t.teardown(async () => await app.close())
    const a = await app.locks.acquire('flush')
    await admin.script('FLUSH')
    t.equal(await a.extend(), true)
    t.equal(await a.release(), true)
  })

  t.test('key layout: a lock is one string key with its lease as TTL, plus the fencing counter', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ url: server.url, keyPrefix, env: {} }, { counterTtl: 3_600_000 })
    t.teardown(async () => await app.close())
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
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ url: server.url, keyPrefix, env: {} })
    t.teardown(async () => await app.close())
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
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const lua = LOCK_ACQUIRE.replace('local SET_GET = redis.REDIS_VERSION_NUM ~= nil', 'local SET_GET = false')
    t.not(lua, LOCK_ACQUIRE, 'the version switch is in the script')
    const client = server.client()
    t.teardown(() => client.disconnect())
    client.defineCommand('oldAcquire', { numberOfKeys: 4, lua })
    const run = client as unknown as { oldAcquire: (...args: Array<string | number>) => Promise<unknown> }
    const b = `${keyPrefix}lock:{old}`
    const keys = [`${b}:holder`, `${b}:fence`, `${b}:queue`, `${b}:alive`]
    const first = await run.oldAcquire(...keys, 'me:1', 5000, 0, 60_000) as number
    t.ok(first > 1_600_000_000_000_000, `clock token ${first}`)
    t.equal(await admin.get(keys[1]!), String(first))
    t.equal(await admin.get(keys[0]!), `${first}|me:1`)
    t.ok(await admin.pttl(keys[1]!) > 50_000)
    const held = await run.oldAcquire(...keys, 'me:2', 5000, 0, 60_000) as [number, number]
    t.ok(held[0] > 4000 && held[0] <= 5000 && held[1] === 0, `held: ${JSON.stringify(held)}`)
    t.equal(await admin.get(keys[0]!), `${first}|me:1`, 'the holder is untouched')
    await admin.del(keys[0]!)
    await admin.set(keys[1]!, '8000000000000000', 'PX', 60_000)
    t.equal(await run.oldAcquire(...keys, 'me:3', 5000, 0, 60_000), 8_000_000_000_000_001, 'counter ahead of the clock')
    t.equal(await admin.get(keys[0]!), '8000000000000001|me:3')
    t.equal(await admin.get(keys[1]!), '8000000000000001')
  })

  t.test('release publishes a wake-up only when someone waits', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const a = await makeApp({ url: server.url, keyPrefix, env: {} })
    const b = await makeApp({ url: server.url, keyPrefix, env: {} })
    t.teardown(async () => { await a.close(); await b.close() })
    const sub = server.client()
    t.teardown(() => sub.disconnect())
    const messages: string[] = []
    sub.on('message', (_channel: string, message: string) => messages.push(message))
    await sub.subscribe(`${keyPrefix}lock:wake`)
    for (let i = 0; i < 20; i++) await (await a.locks.acquire('quiet')).release()
    await sleep(50)
    t.same(messages, [], 'no waiters, no messages')
    const held = await a.locks.acquire('quiet', { ttl: 10_000 })
    const waiting = b.locks.acquire('quiet', { timeout: 5000 })
    await sleep(80)
    await held.release()
    const next = await waiting
    await next.release()
    await sleep(50)
    t.equal(messages.length, 1, 'one message for the one waiter')
    t.equal(messages[0], next.owner, 'addressed to the waiter')
  })

  t.test('a waiter that vanished blocks newcomers only until its lease ends', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ url: server.url, keyPrefix, env: {} })
    t.teardown(async () => await app.close())
    const [seconds, micros] = await admin.time()
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    const queue = `${keyPrefix}lock:{ghost}:queue`
    const alive = `${keyPrefix}lock:{ghost}:alive`
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

  contract(t, {
    label: 'redis',
    setup: async (t, instances = 1, lock = {}) => {
      const keyPrefix = uniquePrefix('lock')
      prefixes.push(keyPrefix)
      const apps = await Promise.all(Array.from({ length: instances }, async () => await makeApp({ url: server.url, keyPrefix, env: {} }, lock)))
      t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })
      return { apps }
    },
    dropCounters,
    rewindCounters,
    keysWithoutTtl: async () => (await Promise.all(prefixes.map(async (prefix) => await keysWithoutTtl(admin, prefix)))).flat()
  })
})
