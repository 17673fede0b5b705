import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startRedis, uniquePrefix, type RedisServer } from '@redkit/testing'
import type { FastifyInstance } from 'fastify'
import type { DurableStream } from '../src/index.js'
import { makeApp, until } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/consumer.mjs', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))

/**
 * Publishes 20 entries on stream 'jobs' of a fresh server, and SIGKILLs a
 * consumer process of group 'workers' (named `worker` when given) once it has
 * taken a batch, leaving the batch pending.
 */
interface KilledMidBatch {
  server: RedisServer
  prefix: string
  app: FastifyInstance
  producer: DurableStream
}

async function killedMidBatch (t: Test, label: string, worker?: string): Promise<KilledMidBatch> {
  const server = await startRedis()
  t.teardown(server.stop)
  const prefix = uniquePrefix(label)
  const app = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => await app.close())
  const producer = app.pubsub.stream('jobs')
  for (let n = 0; n < 20; n++) await producer.publish({ n })

  const args = worker === undefined ? [fixture, server.url, prefix] : [fixture, server.url, prefix, worker]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(() => { child.kill('SIGKILL') })
  await until(() => output.includes('got 0'), 15_000, 'the consumer to take a batch')
  child.kill('SIGKILL')
  await exited
  return { server, prefix, app, producer }
}

t.test('a consumer killed mid-batch has its entries reclaimed by another', { skip: !built && 'build first (dist/ is missing)' }, async (t) => {
  const { app, producer } = await killedMidBatch(t, 'crash')

  const pending = await app.redkit.client!.call('XPENDING', producer.key, 'workers') as [number, ...unknown[]]
  t.equal(Number(pending[0]), 20, 'the killed consumer left its whole batch pending')

  const seen = new Set<number>()
  const rescuer = app.pubsub.stream('jobs', { group: 'workers', consumer: 'rescuer', claimIdleMs: 500 })
  const stop = await rescuer.subscribe((m) => { seen.add((m.data as { n: number }).n) })
  await until(() => seen.size === 20, 10_000, 'every entry reclaimed')
  await until(() => rescuer.stats().acked === 20, 5000, 'acks')
  await stop()
  const after = await app.redkit.client!.call('XPENDING', producer.key, 'workers') as [number, ...unknown[]]
  t.equal(Number(after[0]), 0, 'nothing left pending')
  t.equal(rescuer.stats().claimed, 20)
})

t.test('a killed worker restarted with the same worker name takes back its unfinished entries at once', { skip: !built && 'build first (dist/ is missing)' }, async (t) => {
  const { app: producerApp, producer, server, prefix } = await killedMidBatch(t, 'restart', 'billing-1')
  const pending = await producerApp.redkit.client!.call('XPENDING', producer.key, 'workers') as [number, string, string, Array<[string, string]>]
  t.equal(Number(pending[0]), 20, 'the killed worker left its batch pending')
  t.same(pending[3], [['billing-1', '20']], 'under its worker name')

  // The same configuration as the killed worker; claimIdleMs stays at its default (30 s).
  const restarted = await makeApp({ url: server.url }, prefix, { worker: 'billing-1' })
  t.teardown(async () => await restarted.close())
  const stream = restarted.pubsub.stream('jobs', { group: 'workers', batch: 50, start: '0' })
  t.equal(stream.stats().consumer, 'billing-1')
  const seen = new Set<number>()
  const started = Date.now()
  const stop = await stream.subscribe((m) => { seen.add((m.data as { n: number }).n) })
  await until(() => seen.size === 20 && stream.stats().acked === 20, 10_000, 'every entry processed')
  const ms = Date.now() - started
  t.ok(ms < 10_000, `all 20 taken back and processed in ${ms} ms (claimIdleMs is 30000)`)
  t.equal(stream.stats().claimed, 0, 'taken back as its own entries, not claimed from another consumer')
  await stop()
  const after = await producerApp.redkit.client!.call('XPENDING', producer.key, 'workers') as [number, ...unknown[]]
  t.equal(Number(after[0]), 0, 'nothing left pending')
})
