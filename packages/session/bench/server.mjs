// Starts the compared servers in this child process, each on 127.0.0.1:0,
// and reports their ports to the parent over IPC.
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { Redis } from 'ioredis'
import { redkit } from '@redkit/core'
import { redkitSession } from '../dist/index.js'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const MAX_AGE = 3_600_000
const url = process.env.BENCH_REDIS_URL

const RedisStore = createRequire(import.meta.url)('connect-redis').default

function routes (app) {
  // A fixed-cookie read+modify+write: one counter goes up on every request.
  app.get('/rmw', async (request) => {
    const n = (request.session.get('n') ?? 0) + 1
    request.session.set('n', n)
    return { n }
  })
  // Every request without a cookie creates and stores a new session.
  app.get('/new', async (request) => {
    request.session.set('user', 'u1')
    return { ok: true }
  })
  app.get('/login', async (request) => {
    request.session.set('n', 0)
    request.session.set('user', { id: 42, name: 'bench', roles: ['a', 'b'] })
    return { ok: true }
  })
}

async function bare () {
  const app = Fastify()
  let n = 0
  app.get('/rmw', async () => ({ n: ++n }))
  return app
}

async function ours () {
  const app = Fastify()
  await app.register(redkit, { url, keyPrefix: 'bench-redkit:', env: {} })
  await app.register(redkitSession, { secret: SECRET, cookie: { maxAge: MAX_AGE }, production: false })
  routes(app)
  return app
}

async function peer (store) {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: SECRET, store, saveUninitialized: false, cookie: { secure: false, maxAge: MAX_AGE }
  })
  routes(app)
  return app
}

const client = new Redis(url)
const apps = {
  bare: await bare(),
  redkit: await ours(),
  'connect-redis': await peer(new RedisStore({ client, prefix: 'bench-cr:' })),
  memory: await peer(undefined)
}
const ports = {}
for (const [name, app] of Object.entries(apps)) {
  await app.listen({ host: '127.0.0.1', port: 0 })
  ports[name] = app.server.address().port
}
process.send({ ports })
process.on('message', async (msg) => {
  if (msg === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ cpu: user + system })
    return
  }
  if (msg !== 'stop') return
  await Promise.all(Object.values(apps).map((app) => app.close()))
  client.disconnect()
  process.exit(0)
})
