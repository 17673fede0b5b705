// The Fastify servers of the benchmark, in their own process so the load
// generator does not share their event loop. Started by bench/index.mjs with
// the Redis URL; answers with the URL of each server, stops on 'stop'.
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import redkit from '@redkit/core'
import rateLimit, { fastifyRateLimit } from '../dist/index.js'

const redisUrl = process.env.BENCH_REDIS_URL
const LIMIT = { max: 1_000_000_000, timeWindow: 60_000 }
const peerRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })

async function serve (setup) {
  const app = Fastify({ logger: false })
  await setup(app)
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${app.server.address().port}/` }
}

const redkitStore = (algorithm) => async (app) => {
  await app.register(redkit, { url: redisUrl, keyPrefix: `bench:${algorithm}:`, env: {} })
  await app.register(rateLimit, { fastifyRateLimit: { ...LIMIT, algorithm } })
}

const servers = {
  sliding: await serve(redkitStore('sliding')),
  'sliding-log': await serve(redkitStore('sliding-log')),
  '@fastify/rate-limit redis': await serve(async (app) => {
    await app.register(fastifyRateLimit, { ...LIMIT, redis: peerRedis })
  }),
  '@fastify/rate-limit memory': await serve(async (app) => {
    await app.register(fastifyRateLimit, { ...LIMIT })
  })
}

process.send({ urls: Object.fromEntries(Object.entries(servers).map(([name, { url }]) => [name, url])) })
process.on('message', async (message) => {
  if (message !== 'stop') return
  for (const { app } of Object.values(servers)) await app.close()
  peerRedis.disconnect()
  process.exit(0)
})
