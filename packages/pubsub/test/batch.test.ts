import t, { type Test } from 'tap'
import { startRedis } from '@redkit/testing'
import type { FastifyInstance } from 'fastify'
import type { PubsubMessage } from '../src/index.js'
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from '../src/batch.js'
import { decodeMessages, encode, prepare } from '../src/envelope.js'
import { twoApps, until } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)
const admin = server.client()

async function publishCalls (): Promise<number> {
  const text = await admin.info('commandstats')
  return Number(/cmdstat_publish:calls=(\d+)/.exec(text)?.[1] ?? 0)
}

/** PUBLISH commands Redis ran during `fn`. */
async function publishesDuring (fn: () => Promise<unknown>): Promise<number> {
  const before = await publishCalls()
  await fn()
  return await publishCalls() - before
}

/** A plain client subscribed to the Redis name of a channel, keeping the raw payloads. */
async function rawSubscriber (t: Test, app: FastifyInstance, channel: string): Promise<string[]> {
  const payloads: string[] = []
  const sub = server.client()
  t.teardown(() => { sub.disconnect() })
  sub.on('message', (_: string, payload: string) => { payloads.push(payload) })
  await sub.subscribe(`${app.redkit.prefix}ps:${channel}`)
  return payloads
}

t.test('a turn of publishes to one channel is one PUBLISH, delivered as single messages in order', async (t) => {
  const { a, b } = await twoApps(t, { url: server.url }, 'batch-one')
  const got: PubsubMessage[] = []
  await b.pubsub.subscribe('orders', (m) => { got.push(m) })
  let replies: number[] = []
  const sent = Array.from({ length: 15 }, (_, i) => i)
  t.equal(await publishesDuring(async () => { replies = await Promise.all(sent.map(async (i) => await a.pubsub.publish('orders', { i }))) }), 1)
  t.same(replies, sent.map(() => 1), 'each publish resolves to its batch\'s receivers')
  await until(() => got.length === sent.length)
  t.same(got.map((m) => (m.data as { i: number }).i), sent)
  t.same(got.map((m) => m.seq), sent.map((i) => i + 1))
  t.same(got.map((m) => m.id), sent.map((i) => `${a.redkit.instanceId}:${i + 1}`))
  t.ok(got.every((m) => m.publisher === a.redkit.instanceId && m.channel === 'orders' && Math.abs(m.ts - Date.now()) < 60_000))
  const stats = b.pubsub.stats()
  t.equal(stats.received, 15)
  t.equal(stats.gaps, 0)
  t.equal(a.pubsub.stats().published, 15)
})

t.test('a long turn sends its batches early, growing like core\'s writes, and the next turn starts small again', async (t) => {
  const { a, b } = await twoApps(t, { url: server.url }, 'batch-grow')
  const payloads = await rawSubscriber(t, a, 'feed')
  const got: number[] = []
  await b.pubsub.subscribe('feed', (m) => { got.push(m.seq) })
  const turn = async (n: number): Promise<unknown> => await Promise.all(Array.from({ length: n }, async (_, i) => await a.pubsub.publish('feed', i)))
  // The first messages of a turn leave before the rest are published, as without batches.
  t.equal(await publishesDuring(async () => await turn(100)), 3)
  t.equal(await publishesDuring(async () => await turn(MAX_BATCH_MESSAGES * 2 + 100)), 8)
  t.equal(await publishesDuring(async () => await turn(20)), 2)
  await until(() => got.length === MAX_BATCH_MESSAGES * 2 + 220)
  t.same(got, got.map((_, i) => i + 1))
  t.equal(b.pubsub.stats().gaps, 0)
  const sizes = payloads.map((p) => (JSON.parse(p) as { b?: unknown[] }).b?.length ?? 1)
  t.same(sizes, [16, 32, 52, 16, 32, 64, 128, 256, 512, MAX_BATCH_MESSAGES, 116, 16, 4])
})

t.test('one PUBLISH per channel of the turn', async (t) => {
  const { a, b } = await twoApps(t, { url: server.url }, 'batch-mixed')
  const got: Record<string, number[]> = { x: [], y: [], z: [] }
  for (const channel of Object.keys(got)) await b.pubsub.subscribe(channel, (m) => { got[channel]!.push(m.seq) })
  const channels = ['x', 'y', 'z']
  t.equal(await publishesDuring(async () => await Promise.all(Array.from({ length: 30 }, async (_, i) => await a.pubsub.publish(channels[i % 3]!, i)))), 3)
  await until(() => got.x!.length + got.y!.length + got.z!.length === 30)
  for (const channel of channels) t.same(got[channel], Array.from({ length: 10 }, (_, i) => i + 1), channel)
})

t.test('a lone message of a turn is the classic envelope; several are a batch', async (t) => {
  const { a } = await twoApps(t, { url: server.url }, 'batch-raw')
  const payloads = await rawSubscriber(t, a, 'news')
  t.equal(await a.pubsub.publish('news', { title: 'one' }), 1)
  await until(() => payloads.length === 1)
  const single = JSON.parse(payloads[0]!)
  t.same(Object.keys(single), ['p', 's', 't', 'd'])
  t.same({ p: single.p, s: single.s, d: single.d }, { p: a.redkit.instanceId, s: 1, d: { title: 'one' } })
  await Promise.all([a.pubsub.publish('news', 'two'), a.pubsub.publish('news', 'three')])
  await until(() => payloads.length === 2)
  const batch = JSON.parse(payloads[1]!)
  t.equal(batch.p, a.redkit.instanceId)
  t.same(batch.b.map((e: unknown[]) => [e[0], e[2]]), [[2, 'two'], [3, 'three']])
})

t.test('a batch is split past its byte bound, counting bytes rather than characters', async (t) => {
  const { a, b } = await twoApps(t, { url: server.url }, 'batch-split')
  const payloads = await rawSubscriber(t, a, 'big')
  const got: number[] = []
  await b.pubsub.subscribe('big', (m) => { got.push((m.data as { i: number }).i) })
  // 10 × 5000 'é': 50k characters, but 100 kB.
  const pad = 'é'.repeat(5000)
  const sent = Array.from({ length: 10 }, (_, i) => i)
  const calls = await publishesDuring(async () => await Promise.all(sent.map(async (i) => await a.pubsub.publish('big', { i, pad }))))
  t.equal(calls, 2)
  await until(() => got.length === sent.length)
  t.same(got, sent, 'in order across batches')
  t.equal(b.pubsub.stats().gaps, 0)
  await until(() => payloads.length === calls)
  for (const payload of payloads) t.ok(Buffer.byteLength(payload) <= MAX_BATCH_BYTES, `${Buffer.byteLength(payload)} bytes`)
  // A message larger than a batch goes alone, in the classic form.
  await a.pubsub.publish('big', { i: 10, pad: 'x'.repeat(MAX_BATCH_BYTES) })
  await until(() => got.length === 11)
  t.same(Object.keys(JSON.parse(payloads.at(-1)!)), ['p', 's', 't', 'd'])
})

t.test('a malformed batch is dropped and counted; the subscriber carries on', async (t) => {
  const { a, b } = await twoApps(t, { url: server.url }, 'batch-bad')
  const got: PubsubMessage[] = []
  await b.pubsub.subscribe('feed', (m) => { got.push(m) })
  const name = `${b.redkit.prefix}ps:feed`
  for (const bad of ['{"p":"x","b":[[1,2,"ok"],"bad"]}', '{"p":"x","b":[]}', '{"p":"x","b":5}', '{"p":"x","b":[["1",2,3]]}', '{"b":[[1,2,3]]}', '[1,2]']) {
    await admin.publish(name, bad)
  }
  // A batch built by another client is read like one of ours.
  await admin.publish(name, '{"p":"other","b":[[7,1700000000000,{"a":1}],[8,1700000000001,null]]}')
  await a.pubsub.publish('feed', 'after')
  await until(() => got.length === 3)
  t.same(got.map((m) => [m.id, m.seq, m.ts, m.data]), [['other:7', 7, 1700000000000, { a: 1 }], ['other:8', 8, 1700000000001, null],
    [`${a.redkit.instanceId}:1`, 1, got[2]!.ts, 'after']])
  t.equal(b.pubsub.stats().malformed, 6)
  t.equal(b.pubsub.stats().received, 3)
})

t.test('prepare() refuses what encode() refuses, with the same errors, and the classic text is encode()\'s', async (t) => {
  const circular: Record<string, unknown> = {}
  circular.self = circular
  for (const [data, maxSize] of [[circular, 1024], [undefined, 1024], ['é'.repeat(600), 1024], ['x'.repeat(960), 1024], ['x'.repeat(990), 1024]] as const) {
    let expected: unknown
    let actual: unknown
    try { encode('c', 'pub', 1, data, maxSize) } catch (err) { expected = err }
    try { prepare('c', 'pub', 1, data, maxSize) } catch (err) { actual = err }
    t.equal((actual as { code?: string } | undefined)?.code, (expected as { code?: string } | undefined)?.code)
    t.equal((actual as Error | undefined)?.message, (expected as Error | undefined)?.message)
  }
  const one = decodeMessages(encode('c', 'pub', 5, { a: 1 }, 1024), 'c')
  t.same(one, { channel: 'c', data: { a: 1 }, id: 'pub:5', publisher: 'pub', seq: 5, ts: (one as PubsubMessage).ts })
  t.equal(decodeMessages('not json', 'c'), undefined)
})
