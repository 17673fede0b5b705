import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { DurableStream, GapInfo, PubsubMessage, PubsubStats, Unsubscribe } from '../src/index.js'
import { makeApp } from './helpers.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

interface Order { id: string, total: number }
interface Channels {
  orders: Order
  'user.created': { name: string }
}

async function checks (app: FastifyInstance): Promise<void> {
  const ps = app.pubsub.typed<Channels>()
  expectType<Equal<Parameters<typeof ps.publish<'orders'>>[1], Order>>()
  await ps.publish('orders', { id: 'a', total: 1 })
  // @ts-expect-error wrong payload for a typed channel
  await ps.publish('orders', { id: 'a' })
  // Channels outside the map take anything.
  await ps.publish('misc', 42)
  const off = await ps.subscribe('orders', (m) => {
    expectType<Equal<typeof m, PubsubMessage<Order>>>()
    expectType<Equal<typeof m.data.total, number>>()
  })
  expectType<Equal<typeof off, Unsubscribe>>()
  await off()
  await ps.subscribe('orders.*', (m) => { expectType<Equal<typeof m.data, unknown>>() })
  for await (const m of ps.iterate('user.created', { signal: AbortSignal.abort() })) {
    expectType<Equal<typeof m.data, { name: string }>>()
    if (m.id === '') throw new Error('message without id')
  }
  const stream = ps.stream('orders', { group: 'billing' })
  expectType<Equal<typeof stream, DurableStream<Order>>>()
  if (stream.name !== 'orders') throw new Error('stream name')
  expectType<Equal<Awaited<ReturnType<typeof stream.publish>>, string>>()
  ps.on('gap', (gap) => { expectType<Equal<typeof gap, GapInfo>>() })
  expectType<Equal<ReturnType<typeof app.pubsub.stats>, PubsubStats>>()
  expectType<Equal<Awaited<ReturnType<typeof app.pubsub.publish>>, number>>()
}

t.test('typed channels compile and run', async (t) => {
  const app = await makeApp({ mode: 'memory' }, 'types:')
  t.teardown(async () => await app.close())
  await checks(app)
  t.equal(app.pubsub.typed<Channels>(), app.pubsub, 'typed() is the same object')
})
