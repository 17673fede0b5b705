// Allowed requests per second through @fastify/rate-limit with four stores:
// the redkit store with the sliding window counter ('sliding') and with the
// exact sliding log ('sliding-log'), @fastify/rate-limit's built-in Redis
// store (fixed window) and its in-memory store. The servers run in one child
// process (bench/server.mjs), autocannon in this one, Redis in a third.
//
// BENCH_ROUNDS (default 4) rounds of BENCH_SECONDS (default 5) per store,
// alternating; medians compared. BENCH_CPU_PROF=<dir> profiles the server
// process with --cpu-prof; BENCH_ONLY=<store> loads only that store.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const DURATION = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = 50
const PROFILE = process.env.BENCH_CPU_PROF

async function load (url, seconds) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds })
  return { rps: result['2xx'] / seconds, errors: result.non2xx + result.errors + result.timeouts, p99: result.latency.p99 }
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const server = await startRedis({ local: true })
const admin = server.client()
const child = fork(new URL('./server.mjs', import.meta.url), {
  env: { ...process.env, BENCH_REDIS_URL: server.url },
  execArgv: PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`]
})
const [{ urls }] = await once(child, 'message')
// BENCH_ONLY=<store> loads a single store (for profiling); ratios need all four.
const names = process.env.BENCH_ONLY === undefined ? Object.keys(urls) : [process.env.BENCH_ONLY]

console.log(`servers in one child process, autocannon in this one, redis-server apart; ${CONNECTIONS} connections, ` +
  `${DURATION} s x ${ROUNDS} rounds per store, alternating; limit 1e9 per 60 s, so every request is allowed`)
for (const name of names) await load(urls[name], 1)

const samples = Object.fromEntries(names.map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no store always runs first or last.
  const order = names.map((_, i) => names[(i + round) % names.length])
  for (const name of order) {
    await admin.flushall()
    const r = await load(urls[name], DURATION)
    samples[name].push(r.rps)
    console.log(`round ${round + 1} ${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} allowed req/s  p99 ${r.p99} ms  non-2xx+errors ${r.errors}`)
  }
}

const med = Object.fromEntries(names.map((name) => [name, median(samples[name])]))
console.log('\nstore                          median req/s   min – max')
for (const name of names) {
  const xs = samples[name]
  console.log(`${name.padEnd(30)} ${med[name].toFixed(0).padStart(8)}   ${Math.min(...xs).toFixed(0)} – ${Math.max(...xs).toFixed(0)}`)
}

const ratios = []
for (const ours of names.length === 4 ? ['sliding', 'sliding-log'] : []) {
  for (const peer of ['@fastify/rate-limit redis', '@fastify/rate-limit memory']) {
    const perRound = samples[ours].map((rps, i) => rps / samples[peer][i])
    console.log(`per-round ${ours} / ${peer}: ${perRound.map((r) => r.toFixed(2)).join(' ')}`)
    ratios.push([`${ours} / ${peer}`, med[ours] / med[peer]])
  }
}
if (ratios.length > 0) console.log('goal: sliding / @fastify/rate-limit redis >= 1.15')
for (const [label, ratio] of ratios) console.log(`ratio ${label}: ${ratio.toFixed(2)}`)

child.send('stop')
await once(child, 'exit')
await server.stop()
