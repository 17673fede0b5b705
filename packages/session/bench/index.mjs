// Session benchmark: @redkit/session vs @fastify/session + connect-redis 7
// (ioredis) vs @fastify/session's MemoryStore, plus a bare route.
// Servers run in one child process; autocannon runs here. Rounds alternate
// between targets and the median of each is reported.
import { fork } from 'node:child_process'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 3)
const CONNECTIONS = 50

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function serverCpu () {
  child.send('cpu')
  return await new Promise((resolve) => child.once('message', (msg) => resolve(msg.cpu)))
}

// Returns req/s and the server's CPU microseconds per request; the latter
// is steadier than throughput on a machine shared with other work.
async function run (url, headers = {}, duration = DURATION) {
  const before = await serverCpu()
  const options = { url, connections: CONNECTIONS, duration }
  if (Array.isArray(headers.cookie)) {
    // A cookie drawn from a pool per request, so concurrent requests rarely share a session.
    const pool = headers.cookie
    options.requests = [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: pool[Math.floor(Math.random() * pool.length)] } }) }]
  } else {
    options.headers = headers
  }
  const result = await autocannon(options)
  const cpu = await serverCpu() - before
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return { rps: result.requests.average, cpu: cpu / result.requests.total }
}

async function cookieFor (port) {
  const res = await fetch(`http://127.0.0.1:${port}/login`)
  const header = res.headers.get('set-cookie')
  if (header === null) throw new Error(`no cookie from port ${port}`)
  return header.split(';')[0]
}

const redis = await startRedis({ local: true })
const child = fork(new URL('./server.mjs', import.meta.url), { env: { ...process.env, BENCH_REDIS_URL: redis.url } })
const { ports } = await new Promise((resolve) => child.once('message', resolve))
console.log(`servers in a child process on 127.0.0.1 (ports ${JSON.stringify(ports)}), autocannon in this process,`)
console.log(`${CONNECTIONS} connections, ${DURATION}s per round, ${ROUNDS} alternating rounds, median req/s\n`)

const POOL = 500
const cookies = {}
const pools = {}
for (const name of ['redkit', 'connect-redis', 'memory']) {
  cookies[name] = await cookieFor(ports[name])
  pools[name] = await Promise.all(Array.from({ length: POOL }, async () => await cookieFor(ports[name])))
}

const plan = {
  'fixed-cookie read+modify+write (/rmw)': [
    ['bare route (no session)', 'bare', '/rmw', false],
    ['@redkit/session', 'redkit', '/rmw', true],
    ['@fastify/session + connect-redis 7', 'connect-redis', '/rmw', true],
    ['@fastify/session + MemoryStore', 'memory', '/rmw', true]
  ],
  [`one of ${POOL} cookies per request, read+modify+write (/rmw)`]: [
    ['@redkit/session', 'redkit', '/rmw', 'pool'],
    ['@fastify/session + connect-redis 7', 'connect-redis', '/rmw', 'pool'],
    ['@fastify/session + MemoryStore', 'memory', '/rmw', 'pool']
  ],
  'new session per request (/new)': [
    ['@redkit/session', 'redkit', '/new', false],
    ['@fastify/session + connect-redis 7', 'connect-redis', '/new', false],
    ['@fastify/session + MemoryStore', 'memory', '/new', false]
  ]
}

function headersFor (name, withCookie) {
  if (withCookie === 'pool') return { cookie: pools[name] }
  return withCookie ? { cookie: cookies[name] } : {}
}

const results = {}
for (const [scenario, targets] of Object.entries(plan)) {
  for (const [, name, path, withCookie] of targets) {
    await run(`http://127.0.0.1:${ports[name]}${path}`, headersFor(name, withCookie), 1)
  }
  const samples = targets.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, name, path, withCookie]] of targets.entries()) {
      samples[i].push(await run(`http://127.0.0.1:${ports[name]}${path}`, headersFor(name, withCookie)))
    }
  }
  results[scenario] = targets.map(([label, name], i) => ({
    label, name, rps: median(samples[i].map((s) => s.rps)), cpu: median(samples[i].map((s) => s.cpu)), samples: samples[i].map((s) => s.rps)
  }))
}

for (const [scenario, rows] of Object.entries(results)) {
  console.log(scenario)
  const route = (/\((\/\w+)\)/.exec(scenario)?.[1] ?? scenario) + (scenario.includes('cookies per request') ? ` (${POOL} sessions)` : '')
  const by = Object.fromEntries(rows.map((r) => [r.name, r.rps]))
  const cpu = Object.fromEntries(rows.map((r) => [r.name, r.cpu]))
  for (const row of rows) {
    console.log(`  ${row.label.padEnd(38)} ${String(Math.round(row.rps)).padStart(7)} req/s  ${row.cpu.toFixed(1).padStart(6)} µs server CPU/req   (rounds: ${row.samples.map(Math.round).join(', ')})`)
  }
  console.log(`  ratio @redkit/session / connect-redis 7 ${route}:  ${(by.redkit / by['connect-redis']).toFixed(2)}x  (by server CPU per request: ${(cpu['connect-redis'] / cpu.redkit).toFixed(2)}x)`)
  console.log(`  ratio @redkit/session / MemoryStore ${route}:      ${(by.redkit / by.memory).toFixed(2)}x  (by server CPU per request: ${(cpu.memory / cpu.redkit).toFixed(2)}x)`)
  if (by.bare !== undefined) {
    console.log(`  ratio @redkit/session / bare route:       ${(by.redkit / by.bare).toFixed(2)}x`)
    console.log(`  ratio MemoryStore / bare route:           ${(by.memory / by.bare).toFixed(2)}x`)
    console.log(`  ratio connect-redis 7 / bare route:       ${(by['connect-redis'] / by.bare).toFixed(2)}x`)
  }
  console.log('')
}

child.send('stop')
await new Promise((resolve) => child.once('exit', resolve))
await redis.stop()
