import type { Test } from 'tap'
import type { TestTarget } from '@redkit/testing'
import { appsOn } from './helpers.js'

/** Script calls the target's server ran so far; undefined where they cannot be counted (memory, Cluster). */
async function scriptCalls (target: TestTarget): Promise<number | undefined> {
  if (target.kind !== 'redis') return undefined
  const stats = await target.admin.info('commandstats')
  let n = 0
  for (const name of ['evalsha', 'eval']) n += Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  return n
}

/** Acquires and releases issued in one turn: on a single server they share a script call. Run by contract.ts. */
export function togetherContract (t: Test, target: TestTarget): void {
  t.test('acquires and releases issued together: each answered on its own, one script call each on a single server', async (t) => {
    const { apps: [app] } = await appsOn(t, target)
    const names = Array.from({ length: 20 }, (_, i) => `together-${i}`)
    await (await app!.locks.acquire('together-warm-up')).release()
    let before = await scriptCalls(target)
    const locks = await Promise.all(names.map(async (name) => await app!.locks.acquire(name, { ttl: 5000 })))
    let after = await scriptCalls(target)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call for 20 acquires')
    t.same(locks.map((l) => l.name), names)
    t.ok(locks.every((l) => l.token > 0), 'each lock has a token (tokens order the holders of one lock, not across locks)')
    t.equal(await app!.locks.count(), 20)
    const listed = (await app!.locks.list()).locks
    t.same(listed.map((l) => l.name).sort(), [...names].sort(), 'the registry lists every lock')
    for (const lock of locks) t.equal(listed.find((l) => l.name === lock.name)?.token, lock.token)
    before = await scriptCalls(target)
    t.same(await Promise.all(locks.map(async (l) => await l.release())), names.map(() => true))
    after = await scriptCalls(target)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call for 20 releases')
    t.equal(await app!.locks.count(), 0)
    t.same(await Promise.all(names.map(async (name) => await app!.locks.isLocked(name))), names.map(() => null))
  })

  t.test('acquires issued together: a taken lock is refused or waited for on its own, the free ones are granted', async (t) => {
    const { apps: [a, b] } = await appsOn(t, target, 2)
    const held = await a!.locks.acquire('together-held', { ttl: 5000 })
    const [tried, free, waited] = await Promise.all([
      b!.locks.tryAcquire('together-held'),
      b!.locks.acquire('together-free'),
      b!.locks.acquire('together-held', { timeout: 5000 }),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, 50))
        await held.release()
      })()
    ])
    t.equal(tried, null, 'tryAcquire of the taken lock is refused')
    t.equal(free?.name, 'together-free')
    t.ok(waited!.token > held.token, 'the waiter got the lock after its release, with a later token')
    t.equal((await b!.locks.isLocked('together-held'))?.token, waited!.token)
    await Promise.all([free!.release(), waited!.release()])
  })

  t.test('a release and other commands of the same lock issued together apply in issue order', async (t) => {
    const { apps: [app] } = await appsOn(t, target)
    const lock = await app!.locks.acquire('together-order', { ttl: 5000 })
    const released = lock.release()
    const seen = app!.locks.isLocked('together-order')
    const next = app!.locks.tryAcquire('together-order')
    t.equal(await released, true)
    t.equal(await seen, null, 'the read issued after the release sees it released')
    const again = await next
    t.ok(again !== null && again.token > lock.token, 'an acquire issued after the release gets the lock')
    await again?.release()
  })

  t.test('a release issued together with others hands the lock to its waiter', async (t) => {
    const { apps: [a, b] } = await appsOn(t, target, 2)
    const first = await a!.locks.acquire('together-hand-a', { ttl: 5000 })
    const second = await a!.locks.acquire('together-hand-b', { ttl: 5000 })
    const waiting = b!.locks.acquire('together-hand-a', { timeout: 5000 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.same(await Promise.all([first.release(), second.release()]), [true, true])
    const got = await waiting
    t.ok(got.token > first.token, 'the waiter holds the lock')
    await got.release()
  })
}
