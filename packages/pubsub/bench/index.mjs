// Pub/sub benchmark: @redkit/pubsub beside raw ioredis pub/sub, plain and with auto-pipelining on the
// publisher (what a performance-minded user writes by hand), against a local redis-server.
// Publisher and subscriber run in this process on separate connections (two Fastify apps for redkit,
// two ioredis clients for raw). Rounds alternate redkit, raw, redkit, raw…; the median is reported.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import redkit from '@redkit/core'
import { startRedis } from '@redkit/testing'
import pubsub from '../dist/index.js'

const ROUNDS = 5
const BURST = 30_000
const CHUNK = 1000
const PACED_RATE = 5000
const PACED_SECONDS = 2
const payload = { user: 'u-123', action: 'updated', fields: { plan: 'pro', seats: 12 }, at: '2024-01-01T00:00:00Z' }

const server = await startRedis({ local: true })
const info = server.client()
let round = 0

/** redis-server's CPU time so far, in µs: steadier than msg/s on a shared machine. */
async function redisCpu () {
  const text = await info.info('cpu')
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? Number.NaN)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6
}

/** This process's CPU time so far (publisher and subscriber), in µs. */
function ownCpu () {
  const { user, system } = process.cpuUsage()
  return user + system
}

async function redkitPair () {
  const keyPrefix = `bench:${round++}:`
  const make = async () => {
    const app = Fastify()
    await app.register(redkit, { url: server.url, keyPrefix, env: {} })
    await app.register(pubsub)
    await app.ready()
    return app
  }
  const pub = await make()
  const sub = await make()
  return {
    publish: (channel, data) => pub.pubsub.publish(channel, data),
    subscribe: async (channel, onData) => { await sub.pubsub.subscribe(channel, (m) => onData(m.data)) },
    close: async () => { await pub.close(); await sub.close() }
  }
}

const rawPair = async () => await rawClients({})
const pipelinedPair = async () => await rawClients({ enableAutoPipelining: true })

async function rawClients (options) {
  const pub = new Redis(server.url, options)
  const sub = new Redis(server.url)
  return {
    publish: (channel, data) => pub.publish(channel, JSON.stringify(data)),
    subscribe: async (channel, onData) => {
      sub.on('message', (ch, text) => { if (ch === channel) onData(JSON.parse(text)) })
      await sub.subscribe(channel)
    },
    close: async () => { await pub.quit(); await sub.quit() }
  }
}

async function burst (make) {
  const pair = await make()
  let received = 0
  let done
  const all = new Promise((resolve) => { done = resolve })
  await pair.subscribe('burst', () => { if (++received === BURST) done() })
  const cpuBefore = [ownCpu(), await redisCpu()]
  const started = performance.now()
  for (let sent = 0; sent < BURST; sent += CHUNK) {
    const batch = []
    for (let i = 0; i < CHUNK; i++) batch.push(pair.publish('burst', payload))
    await Promise.all(batch)
  }
  await all
  const seconds = (performance.now() - started) / 1000
  const own = (ownCpu() - cpuBefore[0]) / BURST
  const redis = (await redisCpu() - cpuBefore[1]) / BURST
  await pair.close()
  return { rate: BURST / seconds, own, redis }
}

function percentile (sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function paced (make) {
  const pair = await make()
  const total = PACED_RATE * PACED_SECONDS
  const latencies = []
  let done
  const all = new Promise((resolve) => { done = resolve })
  await pair.subscribe('paced', (data) => {
    latencies.push(performance.now() - data.sentAt)
    if (latencies.length === total) done()
  })
  const started = performance.now()
  const tick = 5
  const perTick = PACED_RATE * tick / 1000
  let sent = 0
  while (sent < total) {
    for (let i = 0; i < perTick && sent < total; i++, sent++) {
      pair.publish('paced', { ...payload, sentAt: performance.now() })
    }
    const wait = started + (sent / PACED_RATE) * 1000 - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))])
  await pair.close()
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), lost: total - latencies.length }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const CONTENDERS = [['redkit', redkitPair], ['raw', rawPair], ['raw auto-pipelined', pipelinedPair]]
const results = Object.fromEntries(CONTENDERS.map(([name]) => [name, { burst: [], own: [], redis: [], p50: [], p99: [], lost: 0 }]))
// Warm up both paths (JIT, connections) before measuring.
for (const [, make] of CONTENDERS) await burst(make)
// Each round starts with a different contender, so none always runs first or last.
const rotated = (r) => CONTENDERS.map((_, j) => CONTENDERS[(r + j) % CONTENDERS.length])
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of rotated(r)) {
    const { rate, own, redis } = await burst(make)
    results[name].burst.push(rate)
    results[name].own.push(own)
    results[name].redis.push(redis)
  }
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of rotated(r)) {
    const { p50, p99, lost } = await paced(make)
    results[name].p50.push(p50)
    results[name].p99.push(p99)
    results[name].lost += lost
  }
}
await server.stop()

const row = (name) => {
  const r = results[name]
  return {
    name,
    burst: Math.round(median(r.burst)),
    own: median(r.own),
    redis: median(r.redis),
    p50: median(r.p50),
    p99: median(r.p99),
    lost: r.lost
  }
}
const ours = row('redkit')
const raw = row('raw')
const pipelined = row('raw auto-pipelined')
console.log(`@redkit/pubsub vs raw ioredis pub/sub — local redis-server, publisher and subscriber in this process, median of ${ROUNDS} alternating rounds`)
console.log(`burst: ${BURST} messages published in pipelined chunks of ${CHUNK}, timed until the last one is received`)
console.log(`paced: ${PACED_RATE} msg/s for ${PACED_SECONDS} s, end-to-end latency publish → handler`)
console.log('')
console.log('burst CPU: µs per message of this process (publisher and subscriber) and of redis-server')
console.log('')
console.log('| client             | burst msg/s | burst µs CPU/msg: process | redis | paced p50 ms | paced p99 ms | lost |')
console.log('|--------------------|-------------|---------------------------|-------|--------------|--------------|------|')
for (const r of [ours, raw, pipelined]) {
  console.log(`| ${r.name.padEnd(18)} | ${String(r.burst).padStart(11)} | ${r.own.toFixed(2).padStart(25)} | ${r.redis.toFixed(2).padStart(5)} | ${r.p50.toFixed(3).padStart(12)} | ${r.p99.toFixed(3).padStart(12)} | ${String(r.lost).padStart(4)} |`)
}
console.log('')
console.log(`throughput ratio redkit/raw: ${(ours.burst / raw.burst).toFixed(2)}x (goal >= 0.9x)`)
console.log(`latency ratio redkit/raw: p50 ${(ours.p50 / raw.p50).toFixed(2)}x, p99 ${(ours.p99 / raw.p99).toFixed(2)}x`)
console.log(`throughput ratio redkit/raw auto-pipelined: ${(ours.burst / pipelined.burst).toFixed(2)}x`)
console.log(`latency ratio redkit/raw auto-pipelined: p50 ${(ours.p50 / pipelined.p50).toFixed(2)}x, p99 ${(ours.p99 / pipelined.p99).toFixed(2)}x`)
