import type { Test } from 'tap'
import { code, sleep, type Setup } from './helpers.js'

/** Waiting for a held lock: hand-off, lease run-out, timeout, abort, first-come-first-served order. */
export function waitersContract (t: Test, setup: Setup): void {
  t.test('a waiter gets the lock when it is released, from another instance', async (t) => {
    const { apps: [a, b] } = await setup(t, 2)
    const first = await a!.locks.acquire('hand', { ttl: 10_000 })
    const waiting = b!.locks.acquire('hand', { ttl: 5000, timeout: 5000 })
    await sleep(100)
    t.equal(await first.release(), true)
    const second = await waiting
    t.ok(second.token > first.token)
    await second.release()
  })

  t.test('a waiter gets the lock when the holder lets its lease run out', async (t) => {
    const { apps: [a, b] } = await setup(t, 2)
    const first = await a!.locks.acquire('crash', { ttl: 200 })
    const second = await b!.locks.acquire('crash', { ttl: 5000, timeout: 3000 })
    t.ok(second.token > first.token)
    t.equal(first.lost, true)
    await second.release()
  })

  t.test('timeout rejects with LockTimeoutError and the holder TTL', async (t) => {
    const { apps: [a, b] } = await setup(t, 2)
    const held = await a!.locks.acquire('busy', { ttl: 5000 })
    const err = await b!.locks.acquire('busy', { timeout: 150 }).catch((e: unknown) => e) as { code: string, holderTtl: number, statusCode: number }
    t.equal(err.code, 'FST_REDKIT_LOCK_TIMEOUT')
    t.ok(err.holderTtl > 0 && err.holderTtl <= 5000, `holderTtl ${err.holderTtl}`)
    t.equal(err.statusCode, 423)
    t.equal(await held.release(), true)
    const after = await b!.locks.tryAcquire('busy')
    t.ok(after !== null, 'the timed-out waiter left the queue')
    await after?.release()
  })

  t.test('an aborted wait rejects with LockAbortedError', async (t) => {
    const { apps: [app] } = await setup(t)
    const held = await app!.locks.acquire('abort', { ttl: 5000 })
    const controller = new AbortController()
    const waiting = app!.locks.acquire('abort', { timeout: 5000, signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    const err = await waiting.catch((e: unknown) => e)
    t.equal(code(err), 'FST_REDKIT_LOCK_ABORTED')
    await held.release()
    const pre = new AbortController()
    pre.abort()
    t.equal(code(await app!.locks.acquire('abort', { signal: pre.signal }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_ABORTED')
  })

  t.test('waiters are served first come, first served', async (t) => {
    const { apps } = await setup(t, 2)
    const holder = await apps[0]!.locks.acquire('fifo', { ttl: 10_000 })
    const order: number[] = []
    const waiters: Array<Promise<void>> = []
    for (let i = 0; i < 5; i++) {
      waiters.push(apps[i % 2]!.locks.withLock('fifo', async () => { order.push(i) }, { timeout: 8000 }))
      await sleep(40)
    }
    await holder.release()
    await Promise.all(waiters)
    t.same(order, [0, 1, 2, 3, 4])
  })

  t.test('a waiter queued while the lock was held goes before a newcomer that arrives after the release', async (t) => {
    const { apps: [a, b, c] } = await setup(t, 3)
    const holder = await a!.locks.acquire('queue-first', { ttl: 10_000 })
    const order: string[] = []
    const queued = b!.locks.withLock('queue-first', async () => {
      order.push('queued')
      await sleep(30)
    }, { timeout: 5000 })
    await sleep(80)
    t.equal(await holder.release(), true)
    // Right after the release the lock is free, but the queued waiter has not taken it yet.
    const newcomer = c!.locks.withLock('queue-first', async () => { order.push('newcomer') }, { timeout: 5000 })
    t.equal(await c!.locks.tryAcquire('queue-first'), null, 'tryAcquire does not jump the queue')
    await Promise.all([queued, newcomer])
    t.same(order, ['queued', 'newcomer'])
    t.equal(await a!.locks.isLocked('queue-first'), null)
    const free = await c!.locks.tryAcquire('queue-first')
    t.ok(free !== null, 'with the queue empty, the lock is granted at once again')
    await free?.release()
  })

  t.test('hand-off under load keeps tokens increasing and serves every waiter', async (t) => {
    const { apps } = await setup(t, 2)
    const tokens: number[] = []
    let inside = 0
    let overlaps = 0
    await Promise.all(Array.from({ length: 12 }, async (_, i) => {
      for (let k = 0; k < 5; k++) {
        await apps[i % 2]!.locks.withLock('load', async (signal, lock) => {
          if (inside++ > 0) overlaps++
          tokens.push(lock.token)
          await new Promise((resolve) => setImmediate(resolve))
          inside--
        }, { timeout: 10_000 })
      }
    }))
    t.equal(tokens.length, 60)
    t.equal(overlaps, 0)
    t.ok(tokens.every((x, i) => i === 0 || x > tokens[i - 1]!), 'tokens strictly increase in grant order')
    t.equal(await apps[0]!.locks.isLocked('load'), null)
  })
}
