// Session benchmark: @redkit/session vs @fastify/session + connect-redis 7
// (ioredis), vs @fastify/session + a hand-written store on raw ioredis with
// auto-pipelining (GET / SET PX / DEL only: less Redis work than ours), vs
// the same with a hand-written store doing the Redis work @redkit/session
// does (session value and TTL, registry of live sessions, per-user index; see
// same-work-store.mjs), vs @fastify/session's MemoryStore, plus a bare route.
// Each server runs in a child process of its own; autocannon runs here. Each round visits
// every target in a rotated order; medians over rounds are reported, with
// the CPU each request cost the server process and redis-server, which is
// steadier than req/s on a machine shared with other work.
// BENCH_SCENARIOS=rmw,pool,new picks scenarios; BENCH_ROUNDS, BENCH_DURATION.
import { fork } from 'node:child_process'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const DURATION = Number(process.env.BENCH_DURATION ?? 3)
const CONNECTIONS = 50
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'rmw,pool,new').split(',')

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

// Redis's own CPU (INFO cpu, user + sys) in microseconds.
async function redisCpu () {
  const info = await admin.info('cpu')
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6
}

async function serverCpu (child) {
  child.send('cpu')
  return await new Promise((resolve) => child.once('message', (msg) => resolve(msg.cpu)))
}

// Returns req/s, and the server's and Redis's CPU microseconds per request.
async function run (name, path, headers = {}, duration = DURATION) {
  const url = `http://127.0.0.1:${ports[name]}${path}`
  const before = [await serverCpu(children[name]), await redisCpu()]
  const options = { url, connections: CONNECTIONS, duration }
  if (Array.isArray(headers.cookie)) {
    // A cookie drawn from a pool per request, so concurrent requests rarely share a session.
    const pool = headers.cookie
    options.requests = [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: pool[Math.floor(Math.random() * pool.length)] } }) }]
  } else {
    options.headers = headers
  }
  const result = await autocannon(options)
  const after = [await serverCpu(children[name]), await redisCpu()]
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  const n = result.requests.total
  return { rps: result.requests.average, cpu: (after[0] - before[0]) / n, redis: (after[1] - before[1]) / n }
}

async function cookieFor (port) {
  const res = await fetch(`http://127.0.0.1:${port}/login`)
  const header = res.headers.get('set-cookie')
  if (header === null) throw new Error(`no cookie from port ${port}`)
  return header.split(';')[0]
}

const redis = await startRedis({ local: true })
const admin = redis.client()
const TARGETS = ['bare', 'redkit', 'connect-redis', 'raw', 'same', 'memory', ...(process.env.BENCH_BASELINE === undefined ? [] : ['baseline'])]
const children = {}
const ports = {}
for (const name of TARGETS) {
  const child = fork(new URL('./server.mjs', import.meta.url), { env: { ...process.env, BENCH_REDIS_URL: redis.url, BENCH_TARGET: name } })
  child.on('exit', (code) => {
    if (code === 0) return
    console.error(`${name}: server exited with code ${code}`)
    process.exit(1)
  })
  children[name] = child
  ports[name] = (await new Promise((resolve) => child.once('message', resolve))).port
}
console.log('one server process per target on 127.0.0.1, autocannon in this process, redis-server apart,')
console.log(`${CONNECTIONS} connections, ${DURATION}s per round, ${ROUNDS} rounds (order rotated each round), medians\n`)

const POOL = 500
const PEERS = TARGETS.slice(1)
const cookies = {}
const pools = {}
for (const name of PEERS) {
  cookies[name] = await cookieFor(ports[name])
  pools[name] = await Promise.all(Array.from({ length: POOL }, async () => await cookieFor(ports[name])))
}

const LABELS = {
  bare: 'bare route (no session)',
  redkit: '@redkit/session',
  'connect-redis': '@fastify/session + connect-redis 7',
  raw: '@fastify/session + raw ioredis store, auto-pipelined',
  same: '@fastify/session + raw store, same Redis work',
  memory: '@fastify/session + MemoryStore',
  baseline: `@redkit/session of ${process.env.BENCH_BASELINE}`
}
const PEER_NAMES = { 'connect-redis': 'connect-redis 7', raw: 'raw ioredis auto-pipelined', same: 'raw ioredis auto-pipelined same Redis work', memory: 'MemoryStore', baseline: 'baseline build' }

const plan = {
  rmw: { title: 'fixed-cookie read+modify+write (/rmw)', route: '/rmw', path: '/rmw', cookie: true, targets: ['bare', ...PEERS] },
  pool: { title: `one of ${POOL} cookies per request, read+modify+write (/rmw)`, route: `/rmw (${POOL} sessions)`, path: '/rmw', cookie: 'pool', targets: PEERS },
  new: { title: 'new session per request (/new)', route: '/new', path: '/new', cookie: false, targets: PEERS }
}

function headersFor (name, withCookie) {
  if (name === 'bare') return {}
  if (withCookie === 'pool') return { cookie: pools[name] }
  return withCookie ? { cookie: cookies[name] } : {}
}

const fmt = (x) => x.toFixed(2)
for (const key of SCENARIOS) {
  const { title, route, path, cookie, targets } = plan[key]
  for (const name of targets) await run(name, path, headersFor(name, cookie), 1)
  const samples = Object.fromEntries(targets.map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < targets.length; j++) {
      const name = targets[(round + j) % targets.length]
      samples[name].push(await run(name, path, headersFor(name, cookie)))
    }
  }
  const med = (name, what) => median(samples[name].map((s) => s[what]))
  console.log(title)
  console.log(`  ${''.padEnd(52)}   req/s   µs CPU/req: server  redis   (req/s per round)`)
  for (const name of targets) {
    console.log(`  ${LABELS[name].padEnd(52)} ${String(Math.round(med(name, 'rps'))).padStart(7)}   ${fmt(med(name, 'cpu')).padStart(17)} ${fmt(med(name, 'redis')).padStart(6)}   (${samples[name].map((s) => Math.round(s.rps)).join(', ')})`)
  }
  for (const peer of PEERS.slice(1)) {
    // Per-round ratios compare targets measured seconds apart, so they cancel much of the drift.
    const perRound = samples.redkit.map((s, i) => s.rps / samples[peer][i].rps)
    const cpuRatio = med(peer, 'cpu') / med('redkit', 'cpu')
    const totalRatio = (med(peer, 'cpu') + med(peer, 'redis')) / (med('redkit', 'cpu') + med('redkit', 'redis'))
    console.log(`  ratio @redkit/session / ${PEER_NAMES[peer]} ${route}: ${fmt(med('redkit', 'rps') / med(peer, 'rps'))}x` +
      `  (per-round median ${fmt(median(perRound))}x, range ${fmt(Math.min(...perRound))}–${fmt(Math.max(...perRound))}; by server CPU per request ${fmt(cpuRatio)}x, by server + Redis CPU ${fmt(totalRatio)}x)`)
  }
  // A store that costs nothing: the most @fastify/session with any store scores here against
  // the hand-written ones, since the HTTP server, @fastify/session and autocannon cost them all alike.
  for (const peer of ['connect-redis', 'raw', 'same']) {
    console.log(`  ratio MemoryStore (ceiling) / ${PEER_NAMES[peer]} ${route}: ${fmt(med('memory', 'rps') / med(peer, 'rps'))}x` +
      `  (by server CPU per request ${fmt(med(peer, 'cpu') / med('memory', 'cpu'))}x)`)
  }
  if (targets.includes('bare')) {
    for (const name of PEERS) console.log(`  ratio ${LABELS[name]} / bare route: ${fmt(med(name, 'rps') / med('bare', 'rps'))}x`)
  }
  console.log('')
}

for (const child of Object.values(children)) {
  child.send('stop')
  await new Promise((resolve) => child.once('exit', resolve))
}
admin.disconnect()
await redis.stop()
