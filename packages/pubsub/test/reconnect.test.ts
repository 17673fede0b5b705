import t from 'tap'
import { logCapture, startRedis, uniquePrefix } from '@redkit/testing'
import type { GapInfo } from '../src/index.js'
import { makeApp, twoApps, until } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)
const admin = server.client()

const TOTAL = 10_000
const RATE = 1000

/** Publishes `total` messages at about `rate` per second; calls `midway` once, halfway through. */
async function paced (total: number, rate: number, send: (n: number) => Promise<unknown>, midway: () => Promise<void>): Promise<void> {
  const started = Date.now()
  const tick = 10
  const perTick = rate * tick / 1000
  let n = 0
  while (n < total) {
    const batch: Array<Promise<unknown>> = []
    for (let i = 0; i < perTick && n < total; i++) batch.push(send(n++))
    await Promise.all(batch)
    if (n === total / 2) await midway()
    const due = started + (n / rate) * 1000
    const wait = due - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
}

t.test('CLIENT KILL TYPE pubsub mid-stream: back within 3 s, gap equals messages missed', async (t) => {
  const { a: publisher, b: subscriber, logs } = await twoApps(t, { url: server.url }, 'kill')

  const received = new Set<number>()
  const gaps: GapInfo[] = []
  subscriber.pubsub.on('gap', (gap) => { gaps.push(gap) })
  await subscriber.pubsub.subscribe('ticks', (m) => { received.add(m.seq) })

  let killedAt = 0
  let backAt = 0
  subscriber.pubsub.on('resubscribed', () => { backAt ||= Date.now() })
  await paced(TOTAL, RATE, async (n) => await publisher.pubsub.publish('ticks', { n }), async () => {
    killedAt = Date.now()
    const killed = await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    t.ok(Number(killed) >= 1, `killed ${String(killed)} subscriber connection(s)`)
  })
  await until(() => received.has(TOTAL), 5000, 'the last message')
  await new Promise((resolve) => setTimeout(resolve, 100))

  t.ok(backAt > 0, 'resubscribed')
  const downMs = backAt - killedAt
  t.ok(downMs < 3000, `back within 3 s (${downMs} ms)`)
  const missed = TOTAL - received.size
  const reported = gaps.reduce((sum, g) => sum + g.missed, 0)
  t.ok(missed > 0, `the kill lost messages (${missed})`)
  t.equal(reported, missed, `reported gap (${reported}) equals messages actually missed (${missed})`)
  t.equal(subscriber.pubsub.stats().missed, missed)
  t.equal(subscriber.pubsub.stats().subscriberLost, 1, 'the loss is counted')
  t.equal(subscriber.pubsub.stats().resubscribes, 1)
  t.ok(logs.records().some((r) => r.msg === 'redkit pubsub: subscriber connection lost; resubscribing when it is back' && r.level === 40),
    'the loss is logged as a warning when it happens')
  const resubscribeLog = logs.records().find((r) => r.msg === 'redkit pubsub: subscriber reconnected and resubscribed')
  t.ok(resubscribeLog, 'the resubscribe is logged')
  t.equal(resubscribeLog?.channels, 1)
  t.ok(logs.records().some((r) => r.msg === 'redkit pubsub: messages were lost (sequence gap)'), 'the gap is logged')
})

t.test('a resubscribe Redis refuses is retried with backoff until it is accepted', async (t) => {
  const prefix = uniquePrefix('refused')
  const logs = logCapture()
  const publisher = await makeApp({ url: server.url }, prefix)
  const subscriber = await makeApp({ url: server.url }, prefix, {}, { level: 'info', stream: logs.stream })
  t.teardown(async () => {
    await admin.call('ACL', 'SETUSER', 'default', 'allchannels')
    await publisher.close()
    await subscriber.close()
  })
  const got: unknown[] = []
  const lost: unknown[] = []
  subscriber.pubsub.on('subscriberLost', (info) => { lost.push(info) })
  await subscriber.pubsub.subscribe('acl', (m) => { got.push(m.data) })
  await subscriber.pubsub.subscribe('acl.*', () => {}, { pattern: true })
  await publisher.pubsub.publish('acl', 1)
  await until(() => got.length === 1)

  // No channel is allowed any more: the connection is dropped, and comes back to a SUBSCRIBE that fails (NOPERM).
  await admin.call('ACL', 'SETUSER', 'default', 'resetchannels')
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await until(() => subscriber.pubsub.stats().resubscribeFailures >= 3, 10_000, 'three refused resubscribes')
  t.equal(subscriber.pubsub.stats().resubscribes, 0, 'not reported as resubscribed while refused')
  t.equal(subscriber.pubsub.stats().subscriberLost, 1)
  t.same(lost, [{ channels: 1, patterns: 1, node: lost.length > 0 ? (lost[0] as { node: string }).node : '' }])

  await admin.call('ACL', 'SETUSER', 'default', 'allchannels')
  await until(() => subscriber.pubsub.stats().resubscribes === 1, 10_000, 'the resubscribe once allowed')
  await publisher.pubsub.publish('acl', 2)
  await until(() => got.length === 2, 5000, 'messages flowing again')
  t.same(got, [1, 2])
  const retries = logs.records().filter((r) => r.msg === 'redkit pubsub: resubscribe failed; retrying')
  t.ok(retries.length >= 3, `${retries.length} retries logged`)
  const delays = retries.map((r) => r.retryInMs as number)
  t.ok(delays.at(-1)! > delays[0]!, `the delay grows (${delays.join(', ')} ms)`)
  const back = logs.records().find((r) => r.msg === 'redkit pubsub: subscriber reconnected and resubscribed')
  t.equal(back?.channels, 1)
  t.equal(back?.patterns, 1)
  t.ok((back?.attempts as number) > 3, `resubscribed on attempt ${String(back?.attempts)}`)
})

t.test('durable mode: the same kill loses nothing; duplicates are removable by id', async (t) => {
  const { a: publisher, b: consumer } = await twoApps(t, { url: server.url }, 'kill-durable')

  const stream = publisher.pubsub.stream('ticks', { maxLen: 100_000, notify: false })
  const worker = consumer.pubsub.stream('ticks', { group: 'g', claimIdleMs: 1000, batch: 200, start: '0' })
  const ids = new Set<string>()
  const numbers = new Set<number>()
  let deliveries = 0
  await worker.subscribe((m) => {
    deliveries++
    ids.add(m.id)
    numbers.add((m.data as { n: number }).n)
  })

  let publishRetries = 0
  const send = async (n: number): Promise<void> => {
    // A publish that fails during the outage is retried: at-least-once on the way in too.
    for (;;) {
      try {
        await stream.publish({ n })
        return
      } catch {
        publishRetries++
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }
  await paced(TOTAL, RATE, send, async () => {
    // Kills every ordinary connection: the consumer's blocking reader and both command connections.
    const killed = await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    t.ok(Number(killed) >= 2, `killed ${String(killed)} connections`)
  })
  await until(() => numbers.size === TOTAL, 15_000, 'every message')
  t.equal(numbers.size, TOTAL, '0 lost')
  t.ok(ids.size <= deliveries, `${deliveries} deliveries, ${ids.size} distinct ids, ${deliveries - ids.size} duplicates removed by id`)
  t.comment(`publish retries during the outage: ${publishRetries}`)
})
