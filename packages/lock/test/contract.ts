import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { TestTarget } from '@redkit/testing'
import { Lock, type LockPage } from '../src/index.js'
import { appsOn, code, sleep, stall, type Setup } from './helpers.js'
import { togetherContract } from './together.js'
import { waitersContract } from './waiters-contract.js'

/** Applies `change` to every fencing counter under the app's prefix; returns how many. */
async function eachCounter (app: FastifyInstance, change: (key: string) => Promise<unknown>): Promise<number> {
  let n = 0
  for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) {
    await change(key)
    n++
  }
  return n
}

/** The behaviour every backend must share. Run by contract-<target>.test.ts. */
export function contract (t: Test, target: TestTarget): void {
  const setup: Setup = async (t, instances, lock) => await appsOn(t, target, instances, lock)
  t.test('acquire, inspect and release', async (t) => {
    const { apps: [app] } = await setup(t)
    const before = Date.now()
    const lock = await app!.locks.acquire('job', { ttl: 5000 })
    t.equal(lock.name, 'job')
    t.equal(lock.kind, 'lock')
    t.ok(Number.isSafeInteger(lock.token) && lock.token > 0, 'token is a positive safe integer')
    t.ok(lock.expiresAt > before && lock.expiresAt <= Date.now() + 5000, 'expiresAt is within the lease')
    t.equal(lock.signal.aborted, false)
    const info = await app!.locks.isLocked('job')
    t.equal(info?.token, lock.token)
    t.equal(info?.owner, lock.owner)
    t.ok(info!.ttl > 4000 && info!.ttl <= 5000, `ttl ${info?.ttl}`)
    t.equal(info?.holders.length, 1)
    t.equal(await lock.release(), true)
    t.equal(await app!.locks.isLocked('job'), null)
    t.equal(await lock.release(), false, 'second release returns false')
    t.equal(await lock.extend(1000), false, 'extend after release returns false')
    t.equal(lock.signal.aborted, false, 'a release is not a loss')
  })

  t.test('tryAcquire returns null while held, tokens strictly increase across instances', async (t) => {
    const { apps } = await setup(t, 2)
    let last = 0
    for (let i = 0; i < 20; i++) {
      const a = apps[i % 2]!
      const b = apps[(i + 1) % 2]!
      const lock = await a.locks.tryAcquire('tok')
      t.ok(lock !== null)
      if (lock === null) return
      t.ok(lock.token > last, 'token increased')
      last = lock.token
      t.equal(await b.locks.tryAcquire('tok'), null, 'held elsewhere')
      t.equal(await lock.release(), true)
    }
  })

  t.test('an expired lock aborts its signal and cannot touch the next holder', async (t) => {
    const { apps: [a, b] } = await setup(t, 2)
    const stale = await a!.locks.acquire('exp', { ttl: 60 })
    const lost = new Promise<unknown>((resolve) => stale.signal.addEventListener('abort', () => resolve(stale.signal.reason)))
    await sleep(150)
    t.equal(code(await lost), 'FST_REDKIT_LOCK_LOST')
    t.equal(stale.lost, true)
    const next = await b!.locks.acquire('exp', { ttl: 5000, timeout: 0 })
    t.ok(next.token > stale.token, 'the next holder has a higher token')
    t.equal(await stale.extend(5000), false)
    t.equal(await stale.release(), false)
    const info = await b!.locks.isLocked('exp')
    t.equal(info?.token, next.token, "the new holder's key is intact")
    t.equal(await next.release(), true)
  })

  t.test('a stalled holder (event loop blocked past its TTL) is fenced off', async (t) => {
    const { apps: [a, b] } = await setup(t, 2)
    const stale = await a!.locks.acquire('stall', { ttl: 100 })
    stall(300)
    const next = await b!.locks.acquire('stall', { ttl: 5000, timeout: 1000 })
    t.ok(next.token > stale.token, 'higher token')
    t.equal(stale.signal.aborted, true, 'signal aborted')
    t.equal(code(stale.signal.reason), 'FST_REDKIT_LOCK_LOST')
    t.equal(await stale.extend(), false, 'stale extend returns false')
    t.equal(await stale.release(), false, 'stale release returns false')
    t.equal((await a!.locks.isLocked('stall'))?.token, next.token, "new holder's key intact")
    t.equal(await next.release(), true)
  })

  t.test('extend keeps the lock past its first lease', async (t) => {
    const { apps: [app] } = await setup(t)
    const lock = await app!.locks.acquire('ext', { ttl: 150 })
    t.equal(await lock.extend(2000), true)
    t.equal(lock.ttl, 2000)
    await sleep(300)
    t.equal(lock.signal.aborted, false)
    t.equal((await app!.locks.isLocked('ext'))?.token, lock.token)
    t.equal(await lock.release(), true)
  })

  waitersContract(t, setup)
  togetherContract(t, target)

  t.test('withLock returns the result, extends while fn runs, and releases', async (t) => {
    const { apps: [app] } = await setup(t)
    let seen: AbortSignal | undefined
    const result = await app!.locks.withLock('wl', async (signal, lock) => {
      seen = signal
      await sleep(400)
      t.equal((await app!.locks.isLocked('wl'))?.token, lock.token, 'still held after more than 3 leases')
      return 42
    }, { ttl: 120 })
    t.equal(result, 42)
    t.equal(seen?.aborted, false)
    t.equal(await app!.locks.isLocked('wl'), null, 'released')
    const err = await app!.locks.withLock('wl', async () => { throw new Error('boom') }).catch((e: Error) => e)
    t.equal((err as Error).message, 'boom')
    t.equal(await app!.locks.isLocked('wl'), null, 'released after a throw')
  })

  t.test('withLock aborts the signal and rejects with LockLostError when the lock is lost', async (t) => {
    const { apps: [app] } = await setup(t)
    let aborted = false
    const err = await app!.locks.withLock('wlost', async (signal) => {
      stall(300)
      await sleep(30)
      aborted = signal.aborted
      return 'done'
    }, { ttl: 100 }).catch((e: unknown) => e)
    t.equal(aborted, true)
    t.equal(code(err), 'FST_REDKIT_LOCK_LOST')
  })

  t.test('200 waiters on one instance print no listener warning', async (t) => {
    const { apps: [app] } = await setup(t)
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
    process.on('warning', onWarning)
    t.teardown(() => { process.off('warning', onWarning) })
    const held = await app!.locks.acquire('crowd', { ttl: 10_000 })
    const controller = new AbortController()
    const waiters = Array.from({ length: 200 }, async (_, i) => await app!.locks.withLock('crowd', () => i, {
      timeout: 20_000, ...(i % 2 === 0 ? { signal: controller.signal } : {})
    }))
    await sleep(100)
    await held.release()
    t.equal((await Promise.all(waiters)).length, 200)
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    t.same(warnings, [])
  })

  t.test('the signal reads aborted as soon as the lease has lapsed, without a tick', async (t) => {
    const { apps: [app] } = await setup(t)
    const seen: Array<[boolean, string | undefined]> = []
    const err = await app!.locks.withLock('lapse', (signal) => {
      seen.push([signal.aborted, code(signal.reason)])
      stall(250)
      seen.push([signal.aborted, code(signal.reason)])
      t.throws(() => signal.throwIfAborted(), { code: 'FST_REDKIT_LOCK_LOST' })
      t.ok(signal instanceof AbortSignal, 'a real AbortSignal')
      return 'done'
    }, { ttl: 100 }).catch((e: unknown) => e)
    t.same(seen, [[false, undefined], [true, 'FST_REDKIT_LOCK_LOST']])
    t.equal(code(err), 'FST_REDKIT_LOCK_LOST')
    const lock = await app!.locks.acquire('lapse2', { ttl: 100 })
    const signal = lock.signal
    let events = 0
    signal.addEventListener('abort', () => { events++ })
    stall(250)
    t.equal(signal.aborted, true, 'a signal read before the stall')
    t.equal(events, 1, 'its listeners ran once')
    t.equal(await lock.release(), false)
  })

  t.test('grants stay O(1) with thousands of locks held on one instance', async (t) => {
    const { apps: [app] } = await setup(t)
    const held: Lock[] = []
    for (let i = 0; i < 2000; i += 100) {
      held.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => await app!.locks.acquire(`many:${i + k}`, { ttl: 60_000 }))))
    }
    const lost = Object.getOwnPropertyDescriptor(Lock.prototype, 'lost')!
    let reads = 0
    Object.defineProperty(Lock.prototype, 'lost', { configurable: true, get () { reads++; return lost.get!.call(this) } })
    t.teardown(() => { Object.defineProperty(Lock.prototype, 'lost', lost) })
    for (let i = 0; i < 50; i++) {
      const lock = await app!.locks.acquire('many:cycle', { ttl: 60_000 })
      await lock.release()
    }
    Object.defineProperty(Lock.prototype, 'lost', lost)
    t.ok(reads < 1000, `held locks looked at by 50 grants: ${reads}`)
    await Promise.all(held.map(async (l) => await l.release()))
  })

  t.test('a held lock still excludes others after more than a thousand other names were used', async (t) => {
    const { apps: [app] } = await setup(t)
    const first = await app!.locks.acquire('first', { ttl: 60_000 })
    for (let i = 0; i < 1100; i += 100) {
      const locks = await Promise.all(Array.from({ length: 100 }, async (_, k) => await app!.locks.acquire(`other:${i + k}`)))
      await Promise.all(locks.map(async (l) => await l.release()))
    }
    t.equal(await app!.locks.tryAcquire('first'), null, 'still held')
    t.equal((await app!.locks.isLocked('first'))?.token, first.token)
    t.equal(code(await app!.locks.acquire('a{b}').catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_NAME', 'names are still checked')
    t.equal(await first.release(), true)
    t.ok(await app!.locks.tryAcquire('first') !== null, 'free after release')
  })

  t.test('semaphore admits limit holders with increasing tokens', async (t) => {
    const { apps } = await setup(t, 2)
    const semA = apps[0]!.locks.semaphore('pool', 3)
    const semB = apps[1]!.locks.semaphore('pool', 3)
    const held = [await semA.acquire(), await semB.acquire(), await semA.acquire({ ttl: 5000 })]
    t.ok(held[0]!.token < held[1]!.token && held[1]!.token < held[2]!.token)
    t.equal(held[0]!.kind, 'semaphore')
    t.equal(await semB.tryAcquire(), null, 'full')
    t.equal((await semB.isLocked())?.holders.length, 3)
    t.equal(await apps[0]!.locks.isLocked('pool'), null, 'a lock of the same name is separate')
    const waiting = semB.acquire({ timeout: 3000 })
    await sleep(50)
    await held[1]!.release()
    const fourth = await waiting
    t.ok(fourth.token > held[2]!.token)
    let running = 0
    let peak = 0
    await Promise.all([held[0]!.release(), held[2]!.release(), fourth.release()])
    await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? semA : semB).withLock(async () => {
      running++
      peak = Math.max(peak, running)
      await sleep(20)
      running--
    }, { timeout: 5000 })))
    t.equal(peak, 3, 'at most 3 at once, and 3 were reached')
  })

  t.test('list shows locks and semaphores with holder, token and TTL', async (t) => {
    const { apps: [app] } = await setup(t)
    const a = await app!.locks.acquire('list:a*?[x]|y', { ttl: 5000 })
    const s = await app!.locks.semaphore('list-sem', 2).acquire({ ttl: 5000 })
    const s2 = await app!.locks.semaphore('list-sem', 2).acquire({ ttl: 3000 })
    const page = await app!.locks.list()
    t.equal(page.cursor, null, 'one page')
    const lock = page.locks.find((i) => i.kind === 'lock' && i.name === 'list:a*?[x]|y')
    const sem = page.locks.find((i) => i.kind === 'semaphore' && i.name === 'list-sem')
    t.equal(lock?.token, a.token)
    t.equal(lock?.owner, a.owner)
    t.ok(lock!.ttl > 4000 && lock!.ttl <= 5000, `ttl ${lock?.ttl}`)
    t.same(lock?.holders.map((h) => h.token), [a.token])
    t.equal(sem?.token, s2.token, 'the newest holder')
    t.same(sem?.holders.map((h) => h.token), [s.token, s2.token])
    t.equal(await app!.locks.count(), 2)
    await a.release()
    await s.release()
    t.equal(await app!.locks.count(), 1, 'the semaphore still has a holder')
    await s2.release()
    t.same(await app!.locks.list(), { locks: [], cursor: null })
    t.equal(await app!.locks.count(), 0)
  })

  t.test('list pages by cursor through every held lock, and count counts them; ended leases drop out', async (t) => {
    const { apps: [app] } = await setup(t)
    const held = await Promise.all(Array.from({ length: 45 }, async (_, i) => await app!.locks.acquire(`page:${i}`, { ttl: 10_000 })))
    const sem = await app!.locks.semaphore('page-sem', 3).acquire({ ttl: 10_000 })
    const short = await app!.locks.acquire('page:short', { ttl: 50 })
    await sleep(120)
    t.equal(short.lost, true)
    t.equal(await app!.locks.count(), 46, 'an ended lease is not counted')
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: LockPage = await app!.locks.list({ cursor, limit: 10 })
      t.ok(page.locks.length <= 10)
      seen.push(...page.locks.map((l) => `${l.kind}:${l.name}`))
      cursor = page.cursor
      if (cursor !== null) t.ok(cursor.length < 1024, 'the cursor is short')
      pages++
    } while (cursor !== null && pages < 100)
    t.equal(new Set(seen).size, 46, 'every held lock once')
    t.equal(seen.length, 46)
    t.notOk(seen.includes('lock:page:short'), 'an ended lease is not listed')
    t.ok(seen.includes('semaphore:page-sem'))
    // Releases while paging: a lock held throughout is still listed.
    const first = await app!.locks.list({ limit: 20 })
    await Promise.all(held.slice(0, 10).map(async (l) => await l.release()))
    const rest = await app!.locks.list({ cursor: first.cursor, limit: 1000 })
    const both = new Set([...first.locks, ...rest.locks].map((l) => l.name))
    for (const l of held.slice(10)) t.ok(both.has(l.name), l.name)
    t.equal(await app!.locks.count(), 36)
    for (const bad of ['nope', 'x'.repeat(2000), '']) {
      t.equal(code(await app!.locks.list({ cursor: bad }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_CURSOR', bad.slice(0, 10))
    }
    t.equal(code(await app!.locks.list({ limit: 0 }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_OPTION')
    await Promise.all([...held.slice(10), sem].map(async (l) => await l.release()))
    t.equal(await app!.locks.count(), 0)
  })

  t.test('bad input gets coded errors', async (t) => {
    const { apps: [app] } = await setup(t)
    for (const name of ['', 'a{b}', 'x\n', 'z'.repeat(600), 42]) {
      t.equal(code(await app!.locks.acquire(name as string).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_NAME', JSON.stringify(name))
    }
    t.equal(code(await app!.locks.acquire('ok', { ttl: -1 }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_OPTION')
    t.equal(code(await app!.locks.acquire('ok', { timeout: 1.5 }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_OPTION')
    t.throws(() => app!.locks.semaphore('s', 0), { code: 'FST_REDKIT_LOCK_INVALID_OPTION' })
    const lock = await app!.locks.acquire('ok')
    await t.rejects(lock.extend(0), { code: 'FST_REDKIT_LOCK_INVALID_OPTION' })
    await lock.release()
  })

  t.test('closing an app releases its locks for the others', async (t) => {
    const { apps } = await setup(t, 2)
    const other = apps[1]!
    const closing = apps[0]!
    if (other === closing) {
      t.pass('one instance in memory mode')
      return
    }
    await closing.locks.acquire('closing', { ttl: 30_000 })
    const waiting = other.locks.acquire('closing', { timeout: 5000 })
    await closing.close()
    const lock = await waiting
    t.ok(lock.token > 0)
    await lock.release()
  })

  // What TTL expiry or a restart without persistence (del), or a failover that lost the last writes (decrby), does to a counter.
  const admin = target.admin
  const losses = admin === undefined
    ? []
    : [
        { test: 'tokens keep increasing after the fencing counter is lost', lock: 'fence', what: 'counter deleted', change: async (key: string) => await admin.del(key) },
        { test: 'tokens keep increasing when the fencing counter lags behind (failover lost writes)', lock: 'lag', what: 'counter set back', change: async (key: string) => await admin.decrby(key, 1_000_000) }
      ]
  for (const loss of losses) {
    t.test(loss.test, async (t) => {
      const { apps: [app] } = await setup(t)
      const first = await app!.locks.acquire(loss.lock)
      await first.release()
      t.ok(await eachCounter(app!, loss.change) >= 1, loss.what)
      const second = await app!.locks.acquire(loss.lock)
      t.ok(second.token > first.token, `${second.token} > ${first.token}`)
      await second.release()
    })
  }

  if (target.kind !== 'memory') {
    t.test('every key has a TTL', async (t) => {
      t.same(await target.keysWithoutTtl(), [])
    })
  }
}
