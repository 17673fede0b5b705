// Compares @redkit/lock with redlock, redis-semaphore and a raw SET NX PX +
// compare-and-delete, against one redis-server this script starts itself.
// Everything runs in this one process; each contender has its own connection.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import Redlock from 'redlock'
import { Mutex } from 'redis-semaphore'
import redkit from '@redkit/core'
import { startRedis } from '@redkit/testing'
import locks from '../dist/index.js'

const IN_FLIGHT = 50
const PAIRS = 10_000
const ROUNDS = 3
const HANDOFFS = 300
const TTL = 10_000

const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function app (server, keyPrefix) {
  const a = Fastify()
  await a.register(redkit, { url: server.url, keyPrefix, env: {} })
  await a.register(locks)
  await a.ready()
  return a
}

function client (server) {
  const c = new Redis(server.options({ maxRetriesPerRequest: 1 }))
  c.on('error', () => {})
  return c
}

/** Runs `pair(slot, i)` PAIRS times with IN_FLIGHT concurrent slots; returns pairs per second. */
async function throughput (pair) {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, slot) => {
    while (next < PAIRS) {
      const i = next++
      await pair(slot, i)
    }
  }))
  return PAIRS / ((performance.now() - started) / 1000)
}

async function main () {
  const server = await startRedis({ local: true })
  const ours = await app(server, 'bench:ours:')
  const raw = client(server)
  raw.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE })
  const redlockClient = client(server)
  const redlock = new Redlock([redlockClient], { retryCount: 0 })
  const semClient = client(server)

  const contenders = {
    '@redkit/lock': async (slot) => {
      const lock = await ours.locks.acquire(`k${slot}`, { ttl: TTL })
      if (!(lock.token > 0)) throw new Error('no fencing token')
      await lock.release()
    },
    'raw SET NX PX + CAD': async (slot, i) => {
      const key = `bench:raw:k${slot}`
      const value = `v${i}`
      if (await raw.set(key, value, 'PX', TTL, 'NX') !== 'OK') throw new Error('raw lock held')
      await raw.compareAndDelete(key, value)
    },
    'redlock 5.0.0-beta.2': async (slot) => {
      const lock = await redlock.acquire([`bench:redlock:k${slot}`], TTL)
      await lock.release()
    },
    'redis-semaphore Mutex': async (slot) => {
      const mutex = new Mutex(semClient, `bench:sem:k${slot}`, { lockTimeout: TTL, refreshInterval: 0 })
      await mutex.acquire()
      await mutex.release()
    }
  }

  // Warm up connections and script caches.
  for (const pair of Object.values(contenders)) for (let i = 0; i < 200; i++) await pair(0, i)

  const results = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, pair] of Object.entries(contenders)) results[name].push(await throughput(pair))
  }

  console.log(`\nacquire + release pairs, ${IN_FLIGHT} in flight, ${PAIRS} pairs per round, median of ${ROUNDS} alternating rounds`)
  console.log('(one process; redis-server spawned locally; each contender on its own connection)\n')
  const base = median(results['raw SET NX PX + CAD'])
  const oursRate = median(results['@redkit/lock'])
  const rows = Object.entries(results).map(([name, rates]) => ({
    contender: name,
    'pairs/s': Math.round(median(rates)),
    'vs raw': (median(rates) / base).toFixed(2) + 'x',
    'ours vs it': (oursRate / median(rates)).toFixed(2) + 'x',
    'fencing token': name === '@redkit/lock' ? 'yes' : 'no'
  }))
  console.table(rows)

  // Contended hand-off: time from the holder calling release to the waiter holding the lock.
  const ours2 = await app(server, 'bench:ours:')
  const handoffOurs = async () => {
    const held = await ours.locks.acquire('handoff', { ttl: TTL })
    const waiting = ours2.locks.acquire('handoff', { ttl: TTL, timeout: 5000 }).then((l) => ({ l, at: performance.now() }))
    await sleep(3)
    const t0 = performance.now()
    await held.release()
    const { l, at } = await waiting
    await l.release()
    return at - t0
  }
  const semClient2 = client(server)
  const handoffSem = async () => {
    const holder = new Mutex(semClient, 'bench:sem:handoff', { lockTimeout: TTL, refreshInterval: 0 })
    await holder.acquire()
    const waiter = new Mutex(semClient2, 'bench:sem:handoff', { lockTimeout: TTL, refreshInterval: 0, acquireTimeout: 5000 })
    const waiting = waiter.acquire().then(() => performance.now())
    await sleep(3)
    const t0 = performance.now()
    await holder.release()
    const at = await waiting
    await waiter.release()
    return at - t0
  }
  const lat = { '@redkit/lock': [], 'redis-semaphore Mutex': [] }
  for (let i = 0; i < HANDOFFS; i++) {
    lat['@redkit/lock'].push(await handoffOurs())
    lat['redis-semaphore Mutex'].push(await handoffSem())
  }
  console.log(`\ncontended hand-off (release → next holder acquired, other instance/connection), ${HANDOFFS} hand-offs each, interleaved\n`)
  const p50 = (name) => percentile(lat[name], 0.5)
  const p99 = (name) => percentile(lat[name], 0.99)
  console.table(Object.keys(lat).map((name) => ({
    contender: name,
    'p50 ms': p50(name).toFixed(3),
    'p99 ms': p99(name).toFixed(3)
  })))
  console.log(`\nratios: @redkit/lock throughput = ${(oursRate / base).toFixed(2)}x raw, ` +
    `${(oursRate / median(results['redlock 5.0.0-beta.2'])).toFixed(2)}x redlock, ` +
    `${(oursRate / median(results['redis-semaphore Mutex'])).toFixed(2)}x redis-semaphore; ` +
    `hand-off p50 ${(p50('redis-semaphore Mutex') / p50('@redkit/lock')).toFixed(1)}x faster, ` +
    `p99 ${(p99('redis-semaphore Mutex') / p99('@redkit/lock')).toFixed(1)}x faster than redis-semaphore`)

  await ours.close()
  await ours2.close()
  for (const c of [raw, redlockClient, semClient, semClient2]) c.disconnect()
  await server.stop()
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  process.exit(1)
})
