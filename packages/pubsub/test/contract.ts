import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { uniquePrefix } from '@redkit/testing'
import type { PubsubMessage, PubsubOptions } from '../src/index.js'
import { deferred, errorCode, pair, until } from './helpers.js'
import { streamContract } from './stream-contract.js'

export interface ContractBackend {
  /** Builds an app instance; apps built with the same prefix share the backend when `shared`. */
  make: (prefix: string, opts?: PubsubOptions) => Promise<FastifyInstance>
  shared: boolean
  patterns: boolean
  /** PUBLISH on Cluster counts only the receiving node's subscribers, so counts are not exact there. */
  exactCounts?: boolean
}

export function contract (t: Test, backend: ContractBackend): void {
  t.test('publish reaches a subscriber with the envelope fields', async (t) => {
    const { a, b } = await pair(t, backend)
    const got: PubsubMessage[] = []
    await b.pubsub.subscribe('orders', (m) => { got.push(m) })
    const receivers = await a.pubsub.publish('orders', { n: 1 })
    if (backend.exactCounts !== false) t.equal(receivers, 1, 'one subscriber connection')
    await until(() => got.length === 1)
    const m = got[0]!
    t.same(m.data, { n: 1 })
    t.equal(m.channel, 'orders')
    t.equal(m.publisher, a.redkit.instanceId)
    t.equal(m.seq, 1)
    t.equal(m.id, `${a.redkit.instanceId}:1`)
    t.ok(Math.abs(m.ts - Date.now()) < 60_000)
  })

  t.test('subscriptions are reference-counted', async (t) => {
    const { a, b } = await pair(t, backend)
    const one: unknown[] = []
    const two: unknown[] = []
    const off1 = await b.pubsub.subscribe('rc', (m) => { one.push(m.data) })
    const off2 = await b.pubsub.subscribe('rc', (m) => { two.push(m.data) })
    t.same(b.pubsub.stats().channels, [{ channel: 'rc', subscribers: 2 }])
    const counts = backend.exactCounts !== false
    const first = await a.pubsub.publish('rc', 1)
    if (counts) t.equal(first, 1, 'one Redis subscription for two handlers')
    await until(() => one.length === 1 && two.length === 1)
    await off1()
    await off1()
    const second = await a.pubsub.publish('rc', 2)
    if (counts) t.equal(second, 1, 'still subscribed while a handler remains')
    await until(() => two.length === 2)
    t.same(one, [1])
    await off2()
    t.same(b.pubsub.stats().channels, [])
    t.equal(await a.pubsub.publish('rc', 3), 0, 'unsubscribed after the last handler left')
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.same(two, [1, 2])
  })

  t.test('patterns', async (t) => {
    const { a, b } = await pair(t, backend)
    if (!backend.patterns) {
      t.equal(await errorCode(async () => await b.pubsub.subscribe('orders.*', () => {}, { pattern: true })), 'FST_REDKIT_PUBSUB_SHARDED_PATTERN')
      t.equal(await errorCode(async () => await b.pubsub.psubscribe('orders.*', () => {})), 'FST_REDKIT_PUBSUB_SHARDED_PATTERN')
      t.same(b.pubsub.stats().patterns, [])
      return
    }
    const got: PubsubMessage[] = []
    const off = await b.pubsub.subscribe('orders.*', (m) => { got.push(m) }, { pattern: true })
    await a.pubsub.publish('orders.eu', 'eu')
    await a.pubsub.publish('users.eu', 'no')
    await a.pubsub.publish('orders.us', 'us')
    await until(() => got.length === 2)
    // On Cluster a classic PUBLISH goes to any node, so two channels may arrive in either order.
    const seen = got.map((m) => [m.channel, m.data, m.pattern]).sort((x, y) => String(x[0]).localeCompare(String(y[0])))
    t.same(seen, [['orders.eu', 'eu', 'orders.*'], ['orders.us', 'us', 'orders.*']])
    t.same(b.pubsub.stats().patterns, [{ pattern: 'orders.*', subscribers: 1 }])
    const literal: unknown[] = []
    await b.pubsub.subscribe('star*', (m) => { literal.push(m.data) }, { pattern: false })
    await a.pubsub.publish('starlight', 'no')
    await a.pubsub.publish('star*', 'yes')
    await until(() => literal.length === 1)
    t.same(literal, ['yes'])
    await off()
  })

  t.test('a name with glob characters is a literal channel unless a pattern is asked for', async (t) => {
    const { a, b } = await pair(t, backend)
    const roomId = '*'
    const star: unknown[] = []
    const price: unknown[] = []
    await b.pubsub.subscribe(`room:${roomId}`, (m) => { star.push(m.data) })
    await b.pubsub.subscribe('price[usd]', (m) => { price.push(m.data) })
    await b.pubsub.subscribe('q?', () => {})
    t.same(b.pubsub.stats().patterns, [], 'no pattern subscription')
    t.same(b.pubsub.stats().channels.map((c) => c.channel).sort(), ['price[usd]', 'q?', 'room:*'])
    await a.pubsub.publish('room:1', 'other room')
    await a.pubsub.publish('prices', 'no')
    await a.pubsub.publish('priceu', 'no')
    await a.pubsub.publish('room:*', 'mine')
    await a.pubsub.publish('price[usd]', 42)
    await until(() => star.length === 1 && price.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.same(star, ['mine'], 'room:* does not listen to other rooms')
    t.same(price, [42], 'price[usd] matches itself')
    t.equal(await errorCode(async () => await b.pubsub.subscribe('x', () => {}, { pattern: 'yes' as never })), 'FST_REDKIT_PUBSUB_INVALID_OPTION')

    const it = b.pubsub.iterate('room:?', { signal: AbortSignal.timeout(5000) })
    const first = it.next()
    await until(() => b.pubsub.stats().channels.some((c) => c.channel === 'room:?'))
    await a.pubsub.publish('room:2', 'no')
    await a.pubsub.publish('room:?', 'yes')
    t.same((await first).value?.data, 'yes', 'iterate is literal too')
    await it.return(undefined)
    if (!backend.patterns) return

    // The same text as a channel and as a pattern at once: two subscriptions that do not replace each other.
    const literal: unknown[] = []
    const wide: unknown[] = []
    const offLiteral = await b.pubsub.subscribe('news.*', (m) => { literal.push(m.data) })
    const offWide = await b.pubsub.psubscribe('news.*', (m) => { wide.push(m.data) })
    t.same(b.pubsub.stats().channels.filter((c) => c.channel === 'news.*'), [{ channel: 'news.*', subscribers: 1 }])
    t.same(b.pubsub.stats().patterns, [{ pattern: 'news.*', subscribers: 1 }])
    await a.pubsub.publish('news.eu', 'eu')
    await a.pubsub.publish('news.*', 'star')
    await until(() => wide.length === 2 && literal.length === 1)
    t.same(literal, ['star'])
    t.same(wide, ['eu', 'star'])
    await offWide()
    await a.pubsub.publish('news.*', 'again')
    await until(() => literal.length === 2)
    t.same(wide, ['eu', 'star'], 'the pattern left, the channel stayed')
    await offLiteral()
  })

  t.test('iterate ends on abort and unsubscribes', async (t) => {
    const { a, b } = await pair(t, backend)
    const controller = new AbortController()
    const seen: unknown[] = []
    const iterator = b.pubsub.iterate('it', { signal: controller.signal })
    const done = (async () => {
      for await (const m of iterator) {
        seen.push(m.data)
        if (seen.length === 3) controller.abort()
      }
    })()
    await until(() => b.pubsub.stats().channels.length === 1)
    for (let i = 0; i < 5; i++) await a.pubsub.publish('it', i)
    await done
    t.same(seen, [0, 1, 2])
    t.same(b.pubsub.stats().channels, [])
  })

  t.test('skipSelf drops own messages only', async (t) => {
    const { a } = await pair(t, backend)
    const mine: unknown[] = []
    const all: unknown[] = []
    await a.pubsub.subscribe('self', (m) => { mine.push(m.data) }, { skipSelf: true })
    await a.pubsub.subscribe('self', (m) => { all.push(m.data) })
    await a.pubsub.publish('self', 1)
    await until(() => all.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 30))
    t.same(mine, [])
    t.same(all, [1])
  })

  t.test("one publisher's messages arrive in the order it sent them", async (t) => {
    const { a, b } = await pair(t, backend)
    const got: number[] = []
    await b.pubsub.subscribe('order', (m) => { got.push(m.data as number) })
    const sent = Array.from({ length: 300 }, (_, i) => i)
    await Promise.all(sent.map(async (i) => await a.pubsub.publish('order', i)))
    await until(() => got.length === sent.length)
    t.same(got, sent)
    t.equal(b.pubsub.stats().gaps, 0, 'no gap reported')
  })

  t.test('messages published in one turn each arrive with their own id, seq and ts, in order', async (t) => {
    const { a, b } = await pair(t, backend)
    const got: PubsubMessage[] = []
    await b.pubsub.subscribe('turn', (m) => { got.push(m) })
    await b.pubsub.subscribe('turn2', (m) => { got.push(m) })
    const before = Date.now()
    const replies = await Promise.all(Array.from({ length: 100 }, async (_, i) => await a.pubsub.publish(i % 4 === 3 ? 'turn2' : 'turn', i)))
    if (backend.exactCounts !== false) t.same(replies, replies.map(() => 1), 'each resolves to the receiving connections')
    await until(() => got.length === 100)
    const of = (channel: string): PubsubMessage[] => got.filter((m) => m.channel === channel)
    t.same(of('turn').map((m) => m.seq), Array.from({ length: 75 }, (_, i) => i + 1))
    t.same(of('turn2').map((m) => m.seq), Array.from({ length: 25 }, (_, i) => i + 1))
    t.same(of('turn').map((m) => m.data), Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 4 !== 3))
    t.ok(got.every((m) => m.id === `${a.redkit.instanceId}:${m.seq}` && m.ts >= before && m.ts <= Date.now()))
    t.equal(b.pubsub.stats().received, 100)
    t.equal(b.pubsub.stats().gaps, 0)
  })

  t.test('a burst of large messages published in one tick arrives whole and in order on each channel', async (t) => {
    const { a, b } = await pair(t, backend)
    const got: Record<string, number[]> = { left: [], right: [] }
    await b.pubsub.subscribe('left', (m) => { got.left!.push((m.data as { i: number }).i) })
    await b.pubsub.subscribe('right', (m) => { got.right!.push((m.data as { i: number }).i) })
    // Several hundred kB: more than a connection holds back before writing.
    const pad = 'x'.repeat(3000)
    const sent = Array.from({ length: 200 }, (_, i) => i)
    const replies = sent.map(async (i) => await a.pubsub.publish(i % 2 === 0 ? 'left' : 'right', { i, pad }))
    await Promise.all(replies)
    await until(() => got.left!.length + got.right!.length === sent.length)
    t.same(got.left, sent.filter((i) => i % 2 === 0))
    t.same(got.right, sent.filter((i) => i % 2 === 1))
    t.equal(b.pubsub.stats().gaps, 0, 'no gap reported')
  })

  t.test('a throwing or slow handler does not affect the others', async (t) => {
    const { a, b } = await pair(t, backend, { slowHandlerMs: 20 })
    const gate = deferred()
    const ok: unknown[] = []
    let slowCalls = 0
    await b.pubsub.subscribe('iso', () => { throw new Error('boom') })
    await b.pubsub.subscribe('iso', async () => { slowCalls++; await gate.promise }, { concurrency: 2 })
    await b.pubsub.subscribe('iso', (m) => { ok.push(m.data) })
    for (let i = 0; i < 5; i++) await a.pubsub.publish('iso', i)
    await until(() => ok.length === 5)
    t.same(ok, [0, 1, 2, 3, 4])
    t.equal(slowCalls, 2, 'the slow handler runs at most its concurrency at once')
    t.equal(b.pubsub.stats().handlerErrors, 5)
    await new Promise((resolve) => setTimeout(resolve, 30))
    gate.resolve()
    await until(() => slowCalls === 5)
    await until(() => b.pubsub.stats().slowHandlers >= 2)
  })

  t.test('a handler that cannot keep up drops its oldest queued messages, and only its own', async (t) => {
    const { a, b } = await pair(t, backend, { maxPending: 2 })
    const gate = deferred()
    const slow: unknown[] = []
    const fast: unknown[] = []
    await b.pubsub.subscribe('drop', async (m) => { await gate.promise; slow.push(m.data) })
    await b.pubsub.subscribe('drop', (m) => { fast.push(m.data) })
    for (let i = 0; i < 5; i++) await a.pubsub.publish('drop', i)
    await until(() => fast.length === 5)
    t.equal(b.pubsub.stats().dropped, 2, 'one running, two queued, two dropped')
    gate.resolve()
    await until(() => slow.length === 3)
    t.same(slow, [0, 3, 4], 'the oldest queued messages were the ones dropped')
    t.same(fast, [0, 1, 2, 3, 4])
  })

  t.test('sequence gaps are reported per publisher', async (t) => {
    const { a, b } = await pair(t, backend)
    const gaps: Array<{ missed: number, publisher: string }> = []
    b.pubsub.on('gap', (gap) => { gaps.push(gap) })
    const got: number[] = []
    await b.pubsub.subscribe('gap', (m) => { got.push(m.seq) })
    await a.pubsub.publish('gap', 'x')
    // Stand-in for messages lost in transit: the publisher's counter moves on without sending.
    const outgoing = (a.pubsub as unknown as { outgoing: Map<string, { seq: number }> }).outgoing
    outgoing.get('gap')!.seq += 4
    await a.pubsub.publish('gap', 'y')
    await until(() => got.length === 2)
    t.same(got, [1, 6])
    t.same(gaps.map((g) => g.missed), [4])
    t.equal(gaps[0]!.publisher, a.redkit.instanceId)
    t.equal(b.pubsub.stats().missed, 4)
  })

  t.test('a publisher keeps gapTracking channel counters; a forgotten channel restarts without a false gap', async (t) => {
    const { a, b } = await pair(t, backend, { gapTracking: 2 })
    const gaps: Array<{ channel: string, missed: number }> = []
    b.pubsub.on('gap', (gap) => { gaps.push(gap) })
    const got: number[] = []
    await b.pubsub.subscribe('fc1', (m) => { got.push(m.seq) })
    for (let i = 0; i < 3; i++) await a.pubsub.publish('fc1', i)
    await a.pubsub.publish('fc2', 'x')
    await a.pubsub.publish('fc3', 'x')
    const outgoing = (a.pubsub as unknown as { outgoing: Map<string, { seq: number }> }).outgoing
    t.same([...outgoing.keys()], ['fc2', 'fc3'], 'the oldest channel was forgotten')
    await a.pubsub.publish('fc1', 3)
    await a.pubsub.publish('fc1', 4)
    await until(() => got.length === 5)
    t.same(got, [1, 2, 3, 1, 2], 'the forgotten channel counts from 1 again')
    t.same(gaps, [], 'a restart is not a gap')
    // Detection still works after the restart.
    outgoing.get('fc1')!.seq += 2
    await a.pubsub.publish('fc1', 5)
    await until(() => got.length === 6)
    t.same(gaps.map((g) => [g.channel, g.missed]), [['fc1', 2]])

    // A durable stream's counter is never forgotten: its consumers deduplicate by message id.
    const jobs = a.pubsub.stream('fc-jobs')
    await jobs.publish({ n: 1 })
    for (const channel of ['fc4', 'fc5', 'fc6']) await a.pubsub.publish(channel, 'x')
    t.ok(outgoing.has('fc-jobs'), 'the stream channel is kept')
    t.equal(outgoing.get('fc-jobs')!.seq, 1)
    t.equal(outgoing.size, 2, 'plain channels are still bounded')
  })

  t.test('bad input gets coded errors and leaves no gap', async (t) => {
    const { a, b } = await pair(t, backend, { maxSize: 1024, maxChannelLength: 16 })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    t.equal(await errorCode(async () => await a.pubsub.publish('', 1)), 'FST_REDKIT_PUBSUB_INVALID_CHANNEL')
    t.equal(await errorCode(async () => await a.pubsub.publish('x'.repeat(17), 1)), 'FST_REDKIT_PUBSUB_INVALID_CHANNEL')
    t.equal(await errorCode(async () => await a.pubsub.publish(42 as unknown as string, 1)), 'FST_REDKIT_PUBSUB_INVALID_CHANNEL')
    t.equal(await errorCode(async () => await a.pubsub.publish('bad', circular)), 'FST_REDKIT_PUBSUB_NOT_SERIALIZABLE')
    t.equal(await errorCode(async () => await a.pubsub.publish('bad', 10n)), 'FST_REDKIT_PUBSUB_NOT_SERIALIZABLE')
    t.equal(await errorCode(async () => await a.pubsub.publish('bad', undefined)), 'FST_REDKIT_PUBSUB_NOT_SERIALIZABLE')
    t.equal(await errorCode(async () => await a.pubsub.publish('bad', 'é'.repeat(600))), 'FST_REDKIT_PUBSUB_MESSAGE_TOO_LARGE')
    t.equal(await errorCode(async () => await b.pubsub.subscribe('', () => {})), 'FST_REDKIT_PUBSUB_INVALID_CHANNEL')
    t.equal(await errorCode(async () => await b.pubsub.subscribe('ok', 'nope' as never)), 'FST_REDKIT_PUBSUB_INVALID_HANDLER')
    t.equal(await errorCode(() => a.pubsub.stream('s', { maxLen: 0 })), 'FST_REDKIT_PUBSUB_INVALID_OPTION')
    t.equal(await errorCode(() => a.pubsub.stream('s', { group: 'has space' })), 'FST_REDKIT_PUBSUB_INVALID_OPTION')
    t.equal(await errorCode(() => a.pubsub.stream('s', { bogus: 1 } as never)), 'FST_REDKIT_PUBSUB_INVALID_OPTION')
    const seqs: number[] = []
    const gaps: unknown[] = []
    b.pubsub.on('gap', (g) => gaps.push(g))
    await b.pubsub.subscribe('bad', (m) => { seqs.push(m.seq) })
    await a.pubsub.publish('bad', 'fine')
    await until(() => seqs.length === 1)
    t.same(seqs, [1], 'refused messages took no sequence number')
    t.same(gaps, [])
  })

  t.test('invalid plugin options fail at register', async (t) => {
    const prefix = uniquePrefix('pubsub')
    for (const opts of [{ maxSize: -1 }, { concurrency: 0 }, { skipSelf: 'yes' }, { nope: true }]) {
      t.equal(await errorCode(async () => {
        const app = await backend.make(prefix, opts as PubsubOptions)
        await app.close()
      }), 'FST_REDKIT_PUBSUB_INVALID_OPTION', JSON.stringify(opts))
    }
  })

  streamContract(t, backend)

  t.test('stats', async (t) => {
    const { a, b } = await pair(t, backend)
    await b.pubsub.subscribe('s', () => {})
    await a.pubsub.publish('s', 1)
    await until(() => b.pubsub.stats().delivered === 1)
    const stats = b.pubsub.stats()
    t.equal(stats.received, 1)
    t.same(stats.channels, [{ channel: 's', subscribers: 1 }])
    t.equal(a.pubsub.stats().published >= 1, true)
    t.equal(typeof stats.gaps, 'number')
    t.ok(['memory', 'redis', 'cluster'].includes(stats.mode))
  })
}
