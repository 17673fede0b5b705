import type { Test } from 'tap'
import { uniquePrefix } from '@redkit/testing'
import type { ContractBackend } from './contract.js'
import { deferred, errorCode, pair, until } from './helpers.js'

/** Durable streams: consumer groups, ack and retry, replay, reclaiming pending entries, worker names. */
export function streamContract (t: Test, backend: ContractBackend): void {
  t.test('durable stream: group delivery, ack, retry, replay', async (t) => {
    const { a, b } = await pair(t, backend)
    const producer = a.pubsub.stream('jobs', { group: 'workers', claimIdleMs: 200 })
    const consumer = b.pubsub.stream('jobs', { group: 'workers', claimIdleMs: 200, batch: 3 })
    const seen: number[] = []
    let failedOnce = false
    const stop = await consumer.subscribe(async (m) => {
      const n = (m.data as { n: number }).n
      if (n === 2 && !failedOnce) {
        failedOnce = true
        throw new Error('transient')
      }
      seen.push(n)
    })
    const ids: string[] = []
    for (let n = 0; n < 5; n++) ids.push(await producer.publish({ n }))
    await until(() => seen.length === 5, 5000, 'all five processed, one after a retry')
    t.same([...seen].sort(), [0, 1, 2, 3, 4])
    await until(() => consumer.stats().acked === 5)
    t.equal(consumer.stats().failed, 1)
    await stop()
    const all: number[] = []
    for await (const m of a.pubsub.stream('jobs').replay('0', { pageSize: 2 })) all.push((m.data as { n: number }).n)
    t.same(all, [0, 1, 2, 3, 4])
    const after: string[] = []
    for await (const m of producer.replay(ids[2])) after.push(m.streamId!)
    t.same(after, ids.slice(3))
    t.equal(await errorCode(async () => { for await (const m of producer.replay('nope')) t.fail(String(m)) }), 'FST_REDKIT_PUBSUB_INVALID_ID')
    if (a.redkit.client !== null) {
      const ttl = await a.redkit.client.pttl(producer.key)
      t.ok(ttl > 0, `stream key has a TTL (${ttl})`)
    }
  })

  t.test('pending entries of a stuck consumer are reclaimed by another', async (t) => {
    const { a, b } = await pair(t, backend)
    const stuck = deferred()
    const first = a.pubsub.stream('claim', { group: 'g', consumer: 'first', claimIdleMs: 300, batch: 10, start: '0' })
    const second = b.pubsub.stream('claim', { group: 'g', consumer: 'second', claimIdleMs: 300, batch: 10, start: '0' })
    for (let n = 0; n < 5; n++) await first.publish({ n })
    let firstGot = 0
    // The first consumer takes the whole batch and never finishes it, as if it had crashed.
    const stopFirst = await first.subscribe(async () => { firstGot++; await stuck.promise })
    await until(() => firstGot >= 1, 5000, 'first consumer to take a batch')
    const seen = new Set<number>()
    const stopSecond = await second.subscribe((m) => { seen.add((m.data as { n: number }).n) })
    await until(() => seen.size === 5, 10_000, 'second consumer to reclaim all entries')
    t.ok(second.stats().claimed >= 5, `claimed ${second.stats().claimed}`)
    t.equal(await errorCode(async () => await second.subscribe(() => {})), 'FST_REDKIT_PUBSUB_STREAM_RUNNING')
    stuck.resolve()
    await stopSecond()
    await stopFirst()
  })

  t.test('a restarted worker with the same worker name takes back its failed entry at once', async (t) => {
    const prefix = uniquePrefix('pubsub-restart')
    const opts = { group: 'g', start: '0' }
    const first = await backend.make(prefix, { worker: 'billing-1' })
    t.teardown(async () => await first.close())
    const before = first.pubsub.stream('restart', opts)
    t.equal(before.stats().consumer, 'billing-1')
    await before.publish({ n: 1 })
    // Fails, so the entry stays pending on this consumer, as if the process had died mid-way.
    const stopBefore = await before.subscribe(() => { throw new Error('dies') })
    await until(() => before.stats().failed === 1)
    // With a shared backend the first app goes away; in memory only its consumer can.
    let next = first
    if (backend.shared) {
      await first.close()
      next = await backend.make(prefix, { worker: 'billing-1' })
      t.teardown(async () => await next.close())
    } else {
      await stopBefore()
    }
    const after = next.pubsub.stream('restart', opts)
    const seen: unknown[] = []
    await after.subscribe((m) => { seen.push(m.data) })
    // Well under claimIdleMs (30 s by default): no claim involved.
    await until(() => after.stats().acked === 1, 5000, 'the entry processed by the restarted worker')
    t.same(seen, [{ n: 1 }])
    t.equal(after.stats().claimed, 0)
    t.equal(await errorCode(async () => await backend.make(prefix, { worker: 'has space' })), 'FST_REDKIT_PUBSUB_INVALID_OPTION')
  })

  t.test('two running consumers with one consumer name see each other; distinct names do not', async (t) => {
    const { a, b } = await pair(t, backend, { worker: 'same' })
    const one = a.pubsub.stream('names', { group: 'g' })
    const two = b.pubsub.stream('names', { group: 'g' })
    const other = b.pubsub.stream('names', { group: 'g', consumer: 'other' })
    const stops = [await one.subscribe(() => {}), await two.subscribe(() => {}), await other.subscribe(() => {})]
    await until(() => one.stats().nameConflicts >= 1 && two.stats().nameConflicts >= 1, 10_000, 'both to see the conflict')
    t.equal(other.stats().nameConflicts, 0)
    const mark = a.redkit.key('ps', 'consumer', 'names', 'g', 'same')
    if (a.redkit.client !== null) {
      const ttl = await a.redkit.client.pttl(mark)
      t.ok(ttl > 0 && ttl <= 6000, `the name's mark has a TTL (${ttl} ms)`)
    }
    for (const stop of stops) await stop()
    // Stopped cleanly, the name is free at once, so a restart under it is not taken for a second process.
    if (a.redkit.client !== null) t.equal(await a.redkit.client.exists(mark), 0, 'mark removed')
  })
}
