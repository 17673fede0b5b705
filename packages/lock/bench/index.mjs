// Compares @redkit/lock with redlock, redis-semaphore, a raw SET NX PX +
// compare-and-delete, and the same raw lock with a fencing counter (INCR in
// the acquire script), also on an ioredis client with auto-pipelining (what a
// performance-minded user writes by hand) and on the redkit connection (the
// lock's own cost), against one redis-server this
// script starts itself.
// Each contender runs in a child process of its own (this script, forked with
// BENCH_CONTENDER set), as in an app that uses one lock library: no other
// contender's code shares its JIT feedback or its heap. This process runs the
// rounds and then the hand-off test.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import v8 from 'node:v8'
import vm from 'node:vm'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import Redlock from 'redlock'
import { Mutex } from 'redis-semaphore'
import redkit from '@redkit/core'
import { startRedis } from '@redkit/testing'
import locks from '../dist/index.js'

const IN_FLIGHT = 50
const PAIRS = 10_000
// BENCH_ROUNDS and BENCH_HANDOFFS shorten a run; BENCH_ONLY=<part of a name>,… runs only the matching contenders.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 300)
const ONLY = process.env.BENCH_ONLY?.split(',').map((part) => part.trim().toLowerCase())
const TTL = 10_000
// BENCH_CPU_PROF=<dir>: each contender's process writes a --cpu-prof profile there.
const PROFILE = process.env.BENCH_CPU_PROF

const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

// The hand-made lock with a fencing token: SET NX PX, then INCR of a counter, in one script.
const FENCED_ACQUIRE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return redis.call('INCR', KEYS[2])`

// A full GC before each measurement, so no contender pays for the garbage of the one before it.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const spread = (xs) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`
const fixed = (x, digits = 2) => x.toFixed(digits)
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

function client (server, extra = {}) {
  const c = new Redis(server.options({ maxRetriesPerRequest: 1, ...extra }))
  c.on('error', () => {})
  return c
}

/**
 * Runs `pair(slot, i)` PAIRS times with IN_FLIGHT concurrent slots; returns pairs per second and
 * this process's CPU µs per pair (steadier than the rate on a busy machine).
 */
async function throughput (pair) {
  let next = 0
  const started = performance.now()
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, slot) => {
    while (next < PAIRS) {
      const i = next++
      await pair(slot, i)
    }
  }))
  const used = process.cpuUsage(cpu)
  return { rate: PAIRS / ((performance.now() - started) / 1000), cpu: (used.user + used.system) / PAIRS }
}

/** The hand-written fenced lock: a script takes the lock and the next fencing token, a second deletes it if still ours. */
function fencedRaw (fenced, label, close = async () => fenced.disconnect()) {
  fenced.defineCommand('fencedAcquire', { numberOfKeys: 2, lua: FENCED_ACQUIRE })
  fenced.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE })
  const pair = async (slot, i) => {
    const key = `bench:${label}:{k${slot}}`
    const value = `v${i}`
    if (!(await fenced.fencedAcquire(key, `${key}:fence`, value, TTL) > 0)) throw new Error('raw fenced lock held')
    await fenced.compareAndDelete(key, value)
  }
  return { pair, close }
}

const RAW = 'raw SET NX PX + CAD'
const RAW_CORE = 'raw SET NX PX + CAD, redkit connection'
const FENCED = 'raw fenced: SET NX PX + INCR script, CAD'
const FENCED_AP = 'raw fenced, ioredis auto-pipelined'
const FENCED_CORE = 'raw fenced, redkit connection'
const OURS = '@redkit/lock'
const REDLOCK = 'redlock 5.0.0-beta.2'
const SEM = 'redis-semaphore Mutex'

/** Each contender's setup: its connection(s) and one acquire + release pair. */
const contenders = {
  [OURS]: async (server) => {
    const ours = await app(server, 'bench:ours:')
    const pair = async (slot) => {
      const lock = await ours.locks.acquire(`k${slot}`, { ttl: TTL })
      if (!(lock.token > 0)) throw new Error('no fencing token')
      await lock.release()
    }
    return { pair, close: async () => await ours.close() }
  },
  [RAW]: async (server) => {
    const raw = client(server)
    raw.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE })
    const pair = async (slot, i) => {
      const key = `bench:raw:k${slot}`
      const value = `v${i}`
      if (await raw.set(key, value, 'PX', TTL, 'NX') !== 'OK') throw new Error('raw lock held')
      await raw.compareAndDelete(key, value)
    }
    return { pair, close: async () => raw.disconnect() }
  },
  // The same raw pair on the app's own redkit connection, which arms core's per-command
  // deadline: it shows how much of the gap is the connection rather than the lock.
  [RAW_CORE]: async (server) => {
    const a = await app(server, 'bench:rawcore:')
    a.redkit.client.defineCommand('benchCompareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE })
    const pair = async (slot, i) => {
      const key = `bench:rawcore:k${slot}`
      const value = `v${i}`
      if (await a.redkit.client.set(key, value, 'PX', TTL, 'NX') !== 'OK') throw new Error('raw lock held')
      await a.redkit.client.benchCompareAndDelete(key, value)
    }
    return { pair, close: async () => await a.close() }
  },
  // The fenced raw pair on the redkit connection: the same Redis work as the lock's
  // common path minus the registry, on the same connection.
  [FENCED_CORE]: async (server) => {
    const a = await app(server, 'bench:fencedcore:')
    return fencedRaw(a.redkit.client, 'fencedcore', async () => await a.close())
  },
  [FENCED]: async (server) => fencedRaw(client(server), 'fenced'),
  [FENCED_AP]: async (server) => fencedRaw(client(server, { enableAutoPipelining: true }), 'fencedap'),
  [REDLOCK]: async (server) => {
    const c = client(server)
    const redlock = new Redlock([c], { retryCount: 0 })
    const pair = async (slot) => {
      const lock = await redlock.acquire([`bench:redlock:k${slot}`], TTL)
      await lock.release()
    }
    return { pair, close: async () => c.disconnect() }
  },
  [SEM]: async (server) => {
    const c = client(server)
    const pair = async (slot) => {
      const mutex = new Mutex(c, `bench:sem:k${slot}`, { lockTimeout: TTL, refreshInterval: 0 })
      await mutex.acquire()
      await mutex.release()
    }
    return { pair, close: async () => c.disconnect() }
  }
}

/** Child mode: sets up one contender, then measures a round on each 'run' message. */
async function child (name) {
  const server = { url: process.env.BENCH_REDIS_URL, options: (extra) => ({ ...JSON.parse(process.env.BENCH_REDIS_OPTIONS), ...extra }) }
  const { pair, close } = await contenders[name](server)
  // Warm up the connection and the script cache.
  for (let i = 0; i < 500; i++) await pair(0, i)
  process.on('message', async (message) => {
    if (message === 'run') {
      gc()
      await sleep(20)
      process.send(await throughput(pair))
    } else {
      await close()
      process.exit(0)
    }
  })
  process.send('ready')
}

async function spawn (server, name) {
  const c = fork(new URL(import.meta.url), {
    env: { ...process.env, BENCH_CONTENDER: name, BENCH_REDIS_URL: server.url, BENCH_REDIS_OPTIONS: JSON.stringify(server.options()) },
    execArgv: PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`]
  })
  // A contender that fails exits non-zero; stop the run instead of waiting for its answer.
  c.on('exit', (code) => {
    if (code === 0) return
    console.error(`${name}: exited with code ${code}`)
    process.exit(1)
  })
  const [message] = await once(c, 'message')
  if (message !== 'ready') throw new Error(`${name}: ${message}`)
  return c
}

/** redis-server's CPU time so far, in µs. */
async function redisCpu (info) {
  const text = await info.info('cpu')
  const seconds = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)[1])
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6
}

/** One round of a contender: its rate, its process's CPU per pair and redis-server's CPU per pair. */
async function round (c, info) {
  const before = await redisCpu(info)
  c.send('run')
  const [{ rate, cpu }] = await once(c, 'message')
  return { rate, cpu, redisCpu: (await redisCpu(info) - before) / PAIRS }
}

async function main () {
  const server = await startRedis({ local: true })
  const names = Object.keys(contenders).filter((name) => ONLY === undefined || ONLY.some((part) => name.toLowerCase().includes(part)))
  const info = client(server)
  const children = {}
  for (const name of names) children[name] = await spawn(server, name)

  // Alternating rounds; each round starts with a different contender and odd rounds run
  // in reverse, so no contender always follows the same neighbour.
  const results = Object.fromEntries(names.map((name) => [name, []]))
  const cpu = Object.fromEntries(names.map((name) => [name, { own: [], redis: [] }]))
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, j) => names[(r + j) % names.length])
    if (r % 2 === 1) order.reverse()
    for (const name of order) {
      const measured = await round(children[name], info)
      results[name].push(measured.rate)
      cpu[name].own.push(measured.cpu)
      cpu[name].redis.push(measured.redisCpu)
    }
  }
  info.disconnect()
  for (const c of Object.values(children)) {
    c.send('stop')
    await once(c, 'exit')
  }

  console.log(`\nacquire + release pairs, ${IN_FLIGHT} in flight, ${PAIRS} pairs per round, ${ROUNDS} alternating rounds`)
  console.log('(one child process per contender, each on its own connection; redis-server spawned locally by this script;')
  console.log(' a full GC before each measurement;')
  console.log(' pairs/s is the median over rounds, spread is the slowest–fastest round;')
  console.log(' CPU µs per pair, median over rounds: the contender\'s process, and redis-server)\n')
  const rate = (name) => median(results[name])
  const has = (name) => names.includes(name)
  console.table(names.map((name) => ({
    contender: name,
    'pairs/s': Math.round(rate(name)),
    'spread pairs/s': spread(results[name]),
    'vs raw': has(RAW) ? fixed(rate(name) / rate(RAW)) + 'x' : '-',
    'CPU µs/pair': fixed(median(cpu[name].own), 1),
    'redis CPU µs/pair': fixed(median(cpu[name].redis), 1),
    'fencing token': [OURS, FENCED, FENCED_AP, FENCED_CORE].includes(name) ? 'yes' : 'no'
  })))
  // Rounds run back to back, so the per-round ratio cancels much of the machine's drift.
  if (has(OURS) && has(RAW)) {
    const perRound = results[OURS].map((x, i) => x / results[RAW][i])
    console.log(`@redkit/lock / raw per round: ${perRound.map((x) => fixed(x)).join(' ')} (median ${fixed(median(perRound))})`)
  }

  // Contended hand-off: time from the holder calling release to the waiter holding the lock.
  const ours = await app(server, 'bench:ours:')
  const semClient = client(server)
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
  const lat = { [OURS]: [], [SEM]: [] }
  for (let i = 0; i < HANDOFFS; i++) {
    lat[OURS].push(await handoffOurs())
    lat[SEM].push(await handoffSem())
  }
  console.log(`\ncontended hand-off (release → next holder acquired, other instance/connection), ${HANDOFFS} hand-offs each, interleaved\n`)
  const p50 = (name) => percentile(lat[name], 0.5)
  const p90 = (name) => percentile(lat[name], 0.9)
  const p99 = (name) => percentile(lat[name], 0.99)
  console.table(Object.keys(lat).map((name) => ({
    contender: name,
    'p50 ms': fixed(p50(name), 3),
    'p90 ms': fixed(p90(name), 3),
    'p99 ms': fixed(p99(name), 3)
  })))

  console.log('')
  const ratios = [
    [RAW, 'raw SET NX + CAD'], [RAW_CORE, 'raw SET NX + CAD on the redkit connection'],
    [FENCED_CORE, 'raw fenced SET NX + INCR, CAD on the redkit connection'], [FENCED, 'raw fenced SET NX + INCR, CAD'],
    [FENCED_AP, 'raw fenced, ioredis auto-pipelined'], [REDLOCK, 'redlock'], [SEM, 'redis-semaphore']
  ]
  for (const [name, label] of ratios) {
    if (has(OURS) && has(name)) console.log(`ratio @redkit/lock / ${label}: ${fixed(rate(OURS) / rate(name))}`)
  }
  console.log(`ratio hand-off p50 redis-semaphore / @redkit/lock: ${fixed(p50(SEM) / p50(OURS), 1)}`)
  console.log(`ratio hand-off p99 redis-semaphore / @redkit/lock: ${fixed(p99(SEM) / p99(OURS), 1)}`)

  await ours.close()
  await ours2.close()
  for (const c of [semClient, semClient2]) c.disconnect()
  await server.stop()
}

const failed = (err) => {
  console.error(err)
  process.exit(1)
}
// A child stays up for the parent's messages; the parent exits when done.
if (process.env.BENCH_CONTENDER !== undefined) child(process.env.BENCH_CONTENDER).catch(failed)
else main().then(() => process.exit(0), failed)
