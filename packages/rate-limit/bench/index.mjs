// Allowed requests per second through @fastify/rate-limit with four stores:
// the redkit store with the sliding window counter ('sliding') and with the
// exact sliding log ('sliding-log'), @fastify/rate-limit's built-in Redis
// store (fixed window) and its in-memory store, and a sliding window counter
// and a sliding log written by hand on an ioredis client with auto-pipelining
// (each of ours is compared with the hand-written one doing its kind of work). The hand-written ones run
// in a hook of their own, without @fastify/rate-limit; 'sliding, app.limiter hook' runs ours that way
// too, and is compared with them alone. Each server runs in a child process of its own
// (bench/server.mjs), autocannon in this one, Redis apart.
//
// BENCH_ROUNDS (default 8) rounds of BENCH_SECONDS (default 3) per store,
// alternating; medians compared. Many short rounds, because this machine's
// speed drifts within seconds: the per-round ratios compare stores measured
// moments apart, and their median is printed beside the ratio of medians.
// BENCH_CPU_PROF=<dir> profiles the server processes with --cpu-prof;
// BENCH_ONLY=<store> starts only that store's server.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8)
const DURATION = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = 50
const PROFILE = process.env.BENCH_CPU_PROF

async function load (url, seconds) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds })
  return { rps: result['2xx'] / seconds, errors: result.non2xx + result.errors + result.timeouts, p99: result.latency.p99 }
}

/** CPU ms a process has used so far (user + system), from /proc; NaN where /proc is missing. */
function cpuMs (pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const PEERS = ['@fastify/rate-limit redis', '@fastify/rate-limit memory', 'raw ioredis auto-pipelined', 'raw ioredis auto-pipelined log']
const HOOK = 'sliding, app.limiter hook'
const STORES = ['sliding', 'sliding-log', HOOK, ...PEERS]
// The hand-written store that does the same Redis work as each of ours.
const BY_HAND = { sliding: 'raw ioredis auto-pipelined', 'sliding-log': 'raw ioredis auto-pipelined log', [HOOK]: 'raw ioredis auto-pipelined' }
// BENCH_ONLY=<store> loads a single store (for profiling); ratios need them all.
const names = process.env.BENCH_ONLY === undefined ? STORES : [process.env.BENCH_ONLY]

const server = await startRedis({ local: true })
const admin = server.client()
const children = {}
const urls = {}
for (const name of names) {
  const child = fork(new URL('./server.mjs', import.meta.url), {
    env: { ...process.env, BENCH_REDIS_URL: server.url, BENCH_STORE: name },
    execArgv: PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`]
  })
  // A server that fails exits non-zero; stop the run instead of waiting for its answer.
  child.on('exit', (code) => {
    if (code === 0) return
    console.error(`${name}: server exited with code ${code}`)
    process.exit(1)
  })
  children[name] = child
  urls[name] = (await once(child, 'message'))[0].url
}
const redisPid = Number(/process_id:(\d+)/.exec(await admin.info('server'))[1])

console.log(`one server process per store, autocannon in this one, redis-server apart; ${CONNECTIONS} connections, ` +
  `${DURATION} s x ${ROUNDS} rounds per store, alternating; limit 1e9 per 60 s, so every request is allowed`)
for (const name of names) await load(urls[name], 1)

const samples = Object.fromEntries(names.map((name) => [name, []]))
// CPU ms per 1,000 requests of the store's server and of redis-server, per round: steadier than req/s here.
const cpu = Object.fromEntries(names.map((name) => [name, { server: [], redis: [] }]))
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no store always runs first or last.
  const order = names.map((_, i) => names[(i + round) % names.length])
  for (const name of order) {
    await admin.flushall()
    const pid = children[name].pid
    const before = [cpuMs(pid), cpuMs(redisPid), cpuMs(process.pid)]
    const r = await load(urls[name], DURATION)
    const per1k = [cpuMs(pid), cpuMs(redisPid), cpuMs(process.pid)]
      .map((ms, i) => (ms - before[i]) / (r.rps * DURATION / 1000))
    samples[name].push(r.rps)
    cpu[name].server.push(per1k[0])
    cpu[name].redis.push(per1k[1])
    console.log(`round ${round + 1} ${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} allowed req/s  p99 ${String(r.p99).padStart(3)} ms  ` +
      `non-2xx+errors ${r.errors}  cpu ms/1k req: ${['server', 'redis', 'autocannon'].map((who, i) => `${who} ${per1k[i].toFixed(0).padStart(3)}`).join(' ')}`)
  }
}

const med = Object.fromEntries(names.map((name) => [name, median(samples[name])]))
console.log('\nstore                          median req/s   min – max        median cpu ms/1k req: server  redis')
for (const name of names) {
  const xs = samples[name]
  const range = `${Math.min(...xs).toFixed(0)} – ${Math.max(...xs).toFixed(0)}`
  console.log(`${name.padEnd(30)} ${med[name].toFixed(0).padStart(8)}   ${range.padEnd(15)}  ` +
    `${median(cpu[name].server).toFixed(0).padStart(28)} ${median(cpu[name].redis).toFixed(0).padStart(6)}`)
}

const ratios = []
for (const ours of names.length === STORES.length ? ['sliding', 'sliding-log', HOOK] : []) {
  // The hook is compared only with the hand-written hook: neither goes through @fastify/rate-limit.
  for (const peer of PEERS.filter((p) => ours === HOOK ? p === BY_HAND[ours] : !p.startsWith('raw ') || p === BY_HAND[ours])) {
    const perRound = samples[ours].map((rps, i) => rps / samples[peer][i])
    console.log(`per-round ${ours} / ${peer}: ${perRound.map((r) => r.toFixed(2)).join(' ')} (median ${median(perRound).toFixed(2)})`)
    ratios.push([`${ours} / ${peer}`, med[ours] / med[peer]])
  }
}
if (ratios.length > 0) {
  // A store that costs nothing: the most any store under @fastify/rate-limit scores here against the
  // hand-written hook, since the HTTP server, @fastify/rate-limit and autocannon cost it the same.
  const memory = '@fastify/rate-limit memory'
  ratios.push([`${memory} (ceiling for a store) / ${BY_HAND.sliding}`, med[memory] / med[BY_HAND.sliding]])
  console.log('goal: sliding / @fastify/rate-limit redis >= 1.15')
}
for (const [label, ratio] of ratios) console.log(`ratio ${label}: ${ratio.toFixed(2)}`)

for (const child of Object.values(children)) {
  child.send('stop')
  await once(child, 'exit')
}
await server.stop()
