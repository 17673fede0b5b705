// Starts one of the compared servers (BENCH_TARGET) in this child process on
// 127.0.0.1:0 and reports its port to the parent over IPC. One process per
// target, as in a real deployment: no other target's garbage or retained
// sessions (MemoryStore keeps every one) share its heap or its CPU count.
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { Redis } from 'ioredis'
import { redkit } from '@redkit/core'
import { redkitSession } from '../dist/index.js'
import { routes } from './routes.mjs'
import { sameWorkStore } from './same-work-store.mjs'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const MAX_AGE = 3_600_000
const url = process.env.BENCH_REDIS_URL

const RedisStore = createRequire(import.meta.url)('connect-redis').default

async function bare () {
  const app = Fastify()
  let n = 0
  app.get('/rmw', async () => ({ n: ++n }))
  return app
}

async function ours (plugin = redkitSession, keyPrefix = 'bench-redkit:') {
  const app = Fastify()
  await app.register(redkit, { url, keyPrefix, env: {} })
  await app.register(plugin, { secret: SECRET, cookie: { maxAge: MAX_AGE }, production: false })
  routes(app)
  return app
}

/**
 * The store a performance-minded user writes by hand: one JSON string per
 * session with GET / SET PX / DEL on an ioredis client with auto-pipelining.
 * It keeps no per-user index and no registry, so it does less Redis work
 * than @redkit/session.
 */
function rawStore (client, prefix) {
  return {
    get (id, cb) {
      client.get(prefix + id).then((text) => cb(null, text === null ? null : JSON.parse(text)), (err) => cb(err))
    },
    set (id, session, cb) {
      const ttl = session.cookie?.originalMaxAge ?? 86_400_000
      client.set(prefix + id, JSON.stringify(session), 'PX', ttl).then(() => cb(), (err) => cb(err))
    },
    destroy (id, cb) {
      client.del(prefix + id).then(() => cb(), (err) => cb(err))
    }
  }
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
const pipelined = new Redis(url, { enableAutoPipelining: true })
const targets = {
  bare: async () => await bare(),
  redkit: async () => await ours(),
  'connect-redis': async () => await peer(new RedisStore({ client, prefix: 'bench-cr:' })),
  raw: async () => await peer(rawStore(pipelined, 'bench-raw:')),
  same: async () => await peer(sameWorkStore(pipelined, 'bench-same:')),
  memory: async () => await peer(undefined),
  // BENCH_BASELINE=<path of another build's dist/index.js>: that build, for a side-by-side run.
  baseline: async () => await ours((await import(process.env.BENCH_BASELINE)).redkitSession, 'bench-baseline:')
}
const app = await targets[process.env.BENCH_TARGET]()
await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ port: app.server.address().port })
process.on('message', async (msg) => {
  if (msg === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ cpu: user + system })
    return
  }
  if (msg !== 'stop') return
  await app.close()
  client.disconnect()
  pipelined.disconnect()
  process.exit(0)
})
