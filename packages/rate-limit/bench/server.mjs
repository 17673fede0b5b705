// One Fastify server of the benchmark, in its own process: the load generator
// does not share its event loop, and no other store's code or garbage shares
// its heap, as in a real deployment with one store per app. Started by
// bench/index.mjs with the Redis URL and the store's name; answers with its
// URL, stops on 'stop'.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import redkit from '@redkit/core'
import fastifyRateLimit from '@fastify/rate-limit'
import rateLimit from '../dist/index.js'

const redisUrl = process.env.BENCH_REDIS_URL
const LIMIT = { max: 1_000_000_000, timeWindow: 60_000 }

const redkitStore = (algorithm) => async (app) => {
  await app.register(redkit, { url: redisUrl, keyPrefix: `bench:${algorithm}:`, env: {} })
  await app.register(rateLimit, { fastifyRateLimit: { ...LIMIT, algorithm } })
}

let peerRedis
const stores = {
  sliding: redkitStore('sliding'),
  'sliding-log': redkitStore('sliding-log'),
  '@fastify/rate-limit redis': async (app) => {
    peerRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
    await app.register(fastifyRateLimit, { ...LIMIT, redis: peerRedis })
  },
  '@fastify/rate-limit memory': async (app) => {
    await app.register(fastifyRateLimit, { ...LIMIT })
  }
}

const app = Fastify({ logger: false })
await stores[process.env.BENCH_STORE](app)
app.get('/', async () => 'ok')
await app.listen({ port: 0, host: '127.0.0.1' })

process.send({ url: `http://127.0.0.1:${app.server.address().port}/` })
process.on('message', async (message) => {
  if (message !== 'stop') return
  await app.close()
  peerRedis?.disconnect()
  process.exit(0)
})
