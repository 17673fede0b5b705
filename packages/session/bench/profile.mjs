// Profiles one server under the fixed-cookie route: run with
//   [ROUTE=rmw|new] node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs [redkit|store|connect-redis|memory]
// and open the .cpuprofile, or read the summary this prints.
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import autocannon from 'autocannon'
import { fork } from 'node:child_process'
import { redkit } from '@redkit/core'
import { startRedis } from '@redkit/testing'
import { redkitSession, RedisSessionStore } from '../dist/index.js'
import { createRequire } from 'node:module'
import { Redis } from 'ioredis'

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
  // 'store': @fastify/session with RedisSessionStore; 'connect-redis'; 'memory'.
  let store
  if (target === 'store') {
    await app.register(redkit, { url: redis.url, keyPrefix: 'prof:', env: {} })
    store = new RedisSessionStore(app)
  } else if (target === 'connect-redis') {
    const RedisStore = createRequire(import.meta.url)('connect-redis').default
    const client = new Redis(redis.url)
    app.addHook('onClose', async () => { client.disconnect() })
    store = new RedisStore({ client, prefix: 'prof-cr:' })
  }
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store, saveUninitialized: false, cookie: { secure: false, maxAge: 3_600_000 } })
}
app.get('/rmw', async (request) => {
  const n = (request.session.get('n') ?? 0) + 1
  request.session.set('n', n)
  return { n }
})
app.get('/new', async (request) => {
  request.session.set('user', 'u1')
  return { ok: true }
})
await app.listen({ host: '127.0.0.1', port: 0 })
const url = `http://127.0.0.1:${app.server.address().port}/${route}`
const first = await fetch(url)
const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? ''
// Load comes from a child so this process's profile shows only the server.
const loader = fork(new URL(import.meta.url), [target, 'load', url, cookie])
const cpuBefore = process.cpuUsage()
const { requests, rps } = await new Promise((resolve) => loader.once('message', resolve))
const cpu = process.cpuUsage(cpuBefore)
console.log(`${target} /${route}: ${Math.round(rps)} req/s, ${((cpu.user + cpu.system) / requests).toFixed(1)} µs server CPU/req`)
await new Promise((resolve) => loader.once('exit', resolve))
await app.close()
await redis.stop()
