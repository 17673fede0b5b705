// Profiles one server under load on one route:
//   [ROUTE=rmw|new] [PROFILE=out.cpuprofile] node bench/profile.mjs [redkit|store|connect-redis|memory]
// The profiler runs only while the load does (start-up is left out), and the
// summary printed is self time per request of the top functions; the profile
// itself is written to PROFILE when set, for a viewer.
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import autocannon from 'autocannon'
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { redkit } from '@redkit/core'
import { startRedis } from '@redkit/testing'
import { redkitSession, SessionStore } from '../dist/index.js'
import { createRequire } from 'node:module'
import { Redis } from 'ioredis'
import { routes } from './routes.mjs'

const target = process.argv[2] ?? 'redkit'
const route = process.env.ROUTE ?? 'rmw'
if (process.argv[3] === 'load') {
  const [url, cookie] = [process.argv[4], process.argv[5]]
  const result = await autocannon({ url, connections: 50, duration: 5, headers: route === 'rmw' ? { cookie } : {} })
  process.send({ requests: result.requests.total, rps: result.requests.average })
  process.exit(0)
}
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const redis = await startRedis({ local: true })
const app = Fastify()
if (target === 'redkit') {
  await app.register(redkit, { url: redis.url, keyPrefix: 'prof:', env: {} })
  await app.register(redkitSession, { secret: SECRET, cookie: { maxAge: 3_600_000 }, production: false })
} else {
  // 'store': @fastify/session with SessionStore; 'connect-redis'; 'memory'.
  let store
  if (target === 'store') {
    await app.register(redkit, { url: redis.url, keyPrefix: 'prof:', env: {} })
    store = new SessionStore(app)
  } else if (target === 'connect-redis') {
    const RedisStore = createRequire(import.meta.url)('connect-redis').default
    const client = new Redis(redis.url)
    app.addHook('onClose', async () => { client.disconnect() })
    store = new RedisStore({ client, prefix: 'prof-cr:' })
  }
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store, saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
}
routes(app)
await app.listen({ host: '127.0.0.1', port: 0 })
const url = `http://127.0.0.1:${app.server.address().port}/${route}`
const first = await fetch(url)
const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? ''
// Load comes from a child so this process's profile shows only the server.
const loader = fork(new URL(import.meta.url), [target, 'load', url, cookie], { execArgv: [] })
const inspector = new Session()
inspector.connect()
await inspector.post('Profiler.enable')
await inspector.post('Profiler.start')
const cpuBefore = process.cpuUsage()
const { requests, rps } = await new Promise((resolve) => loader.once('message', resolve))
const cpu = process.cpuUsage(cpuBefore)
const { profile } = await inspector.post('Profiler.stop')
inspector.disconnect()
if (process.env.PROFILE !== undefined) writeFileSync(process.env.PROFILE, JSON.stringify(profile))
console.log(`${target} /${route}: ${Math.round(rps)} req/s, ${((cpu.user + cpu.system) / requests).toFixed(1)} µs server CPU/req (profiler on)`)
summarise(profile, requests)
await new Promise((resolve) => loader.once('exit', resolve))
await app.close()
await redis.stop()

/**
 * Self time per request of the functions that take most, idle excluded.
 * Samples are taken in wall time: a system call that wakes another process
 * on this machine (writev of a response to autocannon, the write to Redis)
 * also counts the time this process then waits for a core, so those lines
 * are far above their CPU cost. The µs of server CPU above is the real cost.
 */
function summarise ({ nodes, samples, timeDeltas }, requests, top = 25) {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const self = new Map()
  let busy = 0
  for (let i = 0; i < samples.length; i++) {
    const { functionName, url, lineNumber } = byId.get(samples[i]).callFrame
    if (functionName === '(idle)') continue
    const where = url === '' ? '' : ` ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`
    const name = `${functionName || '(anonymous)'}${where}`
    self.set(name, (self.get(name) ?? 0) + (timeDeltas[i] ?? 0))
    busy += timeDeltas[i] ?? 0
  }
  console.log(`busy ${(busy / requests).toFixed(1)} µs per request (sampled); self time per request:`)
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / requests).toFixed(2).padStart(8)} µs  ${(100 * us / busy).toFixed(1).padStart(5)}%  ${name}`)
  }
}
