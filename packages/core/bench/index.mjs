// A route doing one GET through app.redkit.client, on @redkit/core, on @fastify/redis
// and on a raw ioredis client with auto-pipelining (what a performance-minded
// user writes by hand), measured in alternating rounds in one run. Each server
// runs in a process of its own. Besides req/s, the CPU each request cost the
// server process and redis-server: steadier than req/s on a shared machine.
// A fourth server answers the route from memory with no Redis call: the
// ceiling of any client's ratio to the raw one on this machine, where the
// HTTP server and autocannon cost every contender the same per request.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const CONNECTIONS = 50

const server = await startRedis({ local: true })
const seed = server.client()
await seed.set('bench:item', JSON.stringify({ id: 1, name: 'widget', tags: ['a', 'b'] }))

async function start (variant) {
  const child = fork(new URL('./server.mjs', import.meta.url), [variant, server.url])
  const [msg] = await once(child, 'message')
  return { child, url: `http://127.0.0.1:${msg.port}/item` }
}

async function serverCpu (child) {
  child.send('cpu')
  const [msg] = await once(child, 'message')
  return msg.cpu
}

async function redisCpu () {
  const info = await seed.info('cpu')
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6
}

async function load ({ child, url }) {
  const before = [await serverCpu(child), await redisCpu()]
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION })
  const after = [await serverCpu(child), await redisCpu()]
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`)
  const n = r.requests.total
  return { rps: r.requests.average, cpu: (after[0] - before[0]) / n, redis: (after[1] - before[1]) / n }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const RAW = 'raw ioredis auto-pipelined'
const CEILING = 'route without Redis'
const contenders = {
  redkit: await start('redkit'),
  '@fastify/redis': await start('fastify-redis'),
  [RAW]: await start('ioredis-autopipeline'),
  [CEILING]: await start('no-redis')
}
const names = Object.keys(contenders)
const results = Object.fromEntries(names.map((k) => [k, []]))

for (const c of Object.values(contenders)) await load(c) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no contender always runs first or last.
  for (let j = 0; j < names.length; j++) {
    const name = names[(round + j) % names.length]
    results[name].push(await load(contenders[name]))
  }
}

const med = (name, what) => median(results[name].map((s) => s[what]))
console.log(`GET route, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION}s, order rotated each round (medians):`)
console.log(`  ${''.padEnd(28)}   req/s   µs CPU/req: server  redis   (req/s per round)`)
for (const name of names) {
  console.log(`  ${name.padEnd(28)} ${Math.round(med(name, 'rps')).toString().padStart(7)}   ${med(name, 'cpu').toFixed(2).padStart(17)} ${med(name, 'redis').toFixed(2).padStart(6)}   (${results[name].map((s) => Math.round(s.rps)).join(', ')})`)
}
for (const peer of names.slice(1).filter((name) => name !== CEILING)) {
  const perRound = results.redkit.map((s, i) => s.rps / results[peer][i].rps)
  console.log(`ratio redkit / ${peer}: ${(med('redkit', 'rps') / med(peer, 'rps')).toFixed(3)}  (per-round median ${median(perRound).toFixed(2)}, ` +
    `range ${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}; by server CPU per request ${(med(peer, 'cpu') / med('redkit', 'cpu')).toFixed(2)}x)`)
}

// The most any client could score against the raw one here: the HTTP server and
// autocannon share this machine's cores, and their cost per request is the same for all.
console.log(`ratio ${CEILING} (ceiling) / ${RAW}: ${(med(CEILING, 'rps') / med(RAW, 'rps')).toFixed(3)}` +
  `  (by server CPU per request ${(med(RAW, 'cpu') / med(CEILING, 'cpu')).toFixed(2)}x)`)

for (const { child } of Object.values(contenders)) child.send('stop')
await Promise.all(Object.values(contenders).map(({ child }) => once(child, 'exit')))
seed.disconnect()
await server.stop()
