// How the cost of list(), count() and an acquire+release pair grows with the
// number of locks held: each is measured with 10 and with 10,000 locks held
// by the same instance, against one redis-server and a 3-master Cluster this
// script starts itself (and on the memory backend), and the ratio is printed.
// Run: node bench/held.mjs (after `npm run build`).
import Fastify from 'fastify'
import redkit from '@redkit/core'
import { startCluster, startRedis } from '@redkit/testing'
import locks from '../dist/index.js'

const SIZES = [10, 10_000]
const PAIRS = 2000
const LISTS = 50

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function app (core) {
  const a = Fastify()
  await a.register(redkit, core)
  await a.register(locks)
  await a.ready()
  return a
}

async function timed (n, fn) {
  const out = []
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    await fn()
    out.push(performance.now() - started)
  }
  return out
}

async function measure (a, held) {
  const locksHeld = []
  for (let i = 0; i < held; i += 500) {
    const batch = Math.min(500, held - i)
    locksHeld.push(...await Promise.all(Array.from({ length: batch }, async (_, k) => await a.locks.acquire(`held:${i + k}`, { ttl: 600_000 }))))
  }
  // Warm-up, then the measured runs.
  await timed(200, async () => { await (await a.locks.acquire('pair')).release() })
  const pair = median(await timed(PAIRS, async () => { await (await a.locks.acquire('pair')).release() }))
  const list = median(await timed(LISTS, async () => { await a.locks.list({ limit: 10 }) }))
  const count = median(await timed(LISTS, async () => { await a.locks.count() }))
  if (await a.locks.count() !== held) throw new Error(`count ${await a.locks.count()} != ${held}`)
  for (let i = 0; i < locksHeld.length; i += 500) await Promise.all(locksHeld.slice(i, i + 500).map(async (l) => await l.release()))
  return { pair: pair * 1000, list, count }
}

async function run (label, core) {
  const results = []
  for (const held of SIZES) {
    const a = await app(core(held))
    results.push(await measure(a, held))
    await a.close()
  }
  const [small, large] = results
  const row = (name, key, unit, scale = 1) => {
    const s = small[key] * scale
    const l = large[key] * scale
    console.log(`${label.padEnd(7)} ${name.padEnd(28)} ${s.toFixed(2).padStart(9)} ${unit}  ${l.toFixed(2).padStart(9)} ${unit}  ${(l / s).toFixed(2)}×`)
  }
  row('acquire+release p50', 'pair', 'µs')
  row('list({ limit: 10 }) p50', 'list', 'ms')
  row('count() p50', 'count', 'ms')
}

const server = await startRedis()
const cluster = await startCluster({ masters: 3 })
try {
  console.log(`${''.padEnd(36)} ${'10 held'.padStart(12)}  ${'10,000 held'.padStart(12)}  ratio`)
  await run('redis', (held) => ({ url: server.url, keyPrefix: `bench:held:${held}:`, env: {} }))
  await run('cluster', (held) => ({ clusterNodes: cluster.nodes, keyPrefix: `bench:held:${held}:`, env: {} }))
  await run('memory', () => ({ mode: 'memory', env: {} }))
} finally {
  await server.stop()
  await cluster.stop()
}
