// Cache hits on Redis: @redkit/cache vs async-cache-dedupe's Redis storage vs raw GET + JSON.parse
// (also on an ioredis client with auto-pipelining, as a performance-minded user would write it).
// Everything runs in this one process against one local redis-server started here;
// each contender has its own connection. Rounds alternate, the median is reported.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createCache } from 'async-cache-dedupe'
import redkit from '@redkit/core'
import { startRedis } from '@redkit/testing'
import redkitCache from '../dist/index.js'

const KEYS = 1000
const IN_FLIGHT = 50
const OPS = Number(process.env.BENCH_OPS ?? 40_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

const value = (i) => ({
  id: i,
  name: `user ${i}`,
  email: `user${i}@example.com`,
  roles: ['reader', 'writer'],
  createdAt: '2024-05-06T07:08:09.010Z',
  profile: { bio: 'x'.repeat(120), followers: i * 7, verified: i % 2 === 0 }
})

async function measure (get, keyOf) {
  let next = 0
  let checked = 0
  const worker = async () => {
    while (next < OPS) {
      const i = keyOf(next++)
      const v = await get(i)
      if (v?.id !== i) throw new Error(`wrong value for key ${i}: ${JSON.stringify(v)}`)
      checked++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  const seconds = (performance.now() - started) / 1000
  if (checked !== OPS) throw new Error('lost operations')
  return OPS / seconds
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function makeApp (url, cacheOptions) {
  const app = Fastify({ logger: false })
  await app.register(redkit, { url, env: {}, keyPrefix: 'bench:' })
  await app.register(redkitCache, { ttl: 600_000, ...cacheOptions })
  await app.ready()
  return app
}

async function compare (title, contenders, keyOf) {
  const results = Object.fromEntries(contenders.map(([name]) => [name, []]))
  for (const [, get] of contenders) await measure(get, keyOf) // warm-up
  // Each round starts with a different contender so none always runs first or last.
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < contenders.length; j++) {
      const [name, get] = contenders[(round + j) % contenders.length]
      results[name].push(await measure(get, keyOf))
    }
  }
  const rows = contenders.map(([name]) => ({ name, opsPerSec: Math.round(median(results[name])) }))
  console.log(`\n${title} (${OPS} gets per round, ${IN_FLIGHT} in flight, median of ${ROUNDS} rounds)`)
  console.table(rows)
  return Object.fromEntries(rows.map((r) => [r.name, r.opsPerSec]))
}

const server = await startRedis({ local: true, label: 'bench' })
const raw = new Redis(server.url)
const pipelined = new Redis(server.url, { enableAutoPipelining: true })
const acdClient = new Redis(server.url)
const app = await makeApp(server.url, {})
const l1App = await makeApp(server.url, { l1: { max: 1000, ttl: 60_000 } })
try {
  const acd = createCache({ ttl: 600, storage: { type: 'redis', options: { client: acdClient } } })
  acd.define('user', async (i) => value(i))
  for (let i = 0; i < KEYS; i++) {
    await app.cache.set(`user:${i}`, value(i))
    await raw.set(`raw:user:${i}`, JSON.stringify(value(i)), 'EX', 600)
    await acd.user(i)
  }

  const spread = (n) => n % KEYS
  const core = app.redkit.client
  const distinct = await compare('Hits on 1,000 distinct keys', [
    ['raw GET + JSON.parse', async (i) => JSON.parse(await raw.get(`raw:user:${i}`))],
    ['raw GET + JSON.parse, core client', async (i) => JSON.parse(await core.get(`raw:user:${i}`))],
    ['raw GET + JSON.parse, ioredis auto-pipelined', async (i) => JSON.parse(await pipelined.get(`raw:user:${i}`))],
    ['@redkit/cache get', async (i) => await app.cache.get(`user:${i}`)],
    ['async-cache-dedupe (redis)', async (i) => await acd.user(i)]
  ], spread)

  const hot = () => 7
  const hotKey = await compare('One hot key', [
    ['raw GET + JSON.parse', async (i) => JSON.parse(await raw.get(`raw:user:${i}`))],
    ['@redkit/cache get', async (i) => await app.cache.get(`user:${i}`)],
    ['@redkit/cache get, L1 on', async (i) => await l1App.cache.get(`user:${i}`)]
  ], hot)

  const rawOps = distinct['raw GET + JSON.parse']
  console.log('\nRatios (distinct keys, higher is better):')
  console.log(`  @redkit/cache / raw GET + JSON.parse        = ${(distinct['@redkit/cache get'] / rawOps).toFixed(3)}x  (goal >= 0.95x)`)
  console.log(`  @redkit/cache / raw on the same core client  = ${(distinct['@redkit/cache get'] / distinct['raw GET + JSON.parse, core client']).toFixed(3)}x`)
  console.log(`  @redkit/cache / raw ioredis auto-pipelined  = ${(distinct['@redkit/cache get'] / distinct['raw GET + JSON.parse, ioredis auto-pipelined']).toFixed(3)}x`)
  console.log(`  @redkit/cache / async-cache-dedupe (redis)  = ${(distinct['@redkit/cache get'] / distinct['async-cache-dedupe (redis)']).toFixed(3)}x`)
  console.log(`  async-cache-dedupe (redis) / raw            = ${(distinct['async-cache-dedupe (redis)'] / rawOps).toFixed(3)}x`)
  console.log('Ratios (hot key):')
  console.log(`  @redkit/cache L1 on / raw GET + JSON.parse  = ${(hotKey['@redkit/cache get, L1 on'] / hotKey['raw GET + JSON.parse']).toFixed(3)}x`)
  console.log(`  @redkit/cache L1 on / L1 off                = ${(hotKey['@redkit/cache get, L1 on'] / hotKey['@redkit/cache get']).toFixed(3)}x`)
  const stats = l1App.cache.stats().total
  console.log(`  L1 app: ${stats.l1Hits} of ${stats.hits} hits answered in process`)
} finally {
  await app.close()
  await l1App.close()
  raw.disconnect()
  pipelined.disconnect()
  acdClient.disconnect()
  await server.stop()
}
