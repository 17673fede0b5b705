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

// The same limit through app.limiter.check() in a hook of the app's own, the
// shape of the hand-written peers below: without @fastify/rate-limit's own
// work per request, which the stores above carry and the peers do not.
const redkitHook = async (app) => {
  await app.register(redkit, { url: redisUrl, keyPrefix: 'bench:hook:', env: {} })
  await app.register(rateLimit, { limit: LIMIT.max, window: LIMIT.timeWindow, algorithm: 'sliding' })
  app.addHook('onRequest', async (request, reply) => {
    const decision = await app.limiter.check(app.limiter.clientKey(request))
    return await answer(reply, decision.allowed, decision.remaining, decision.resetAt - decision.now, decision.retryAfter)
  })
}

// The sliding window counter a performance-minded user writes by hand: one
// hash per client (start of the current window, its count, the previous
// window's count) in one script on the server clock, on an ioredis client
// with auto-pipelining, with @fastify/rate-limit's headers.
const SLIDING_BY_HAND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
local s, c, p = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0
if not s or now - s >= 2 * window then
  s, c, p = now, 0, 0
elseif now - s >= window then
  s, p, c = s + window, c, 0
end
local used = math.floor(p * (window - (now - s)) / window) + c
if used + 1 > limit then return { 0, 0, s + window - now } end
redis.call('HSET', KEYS[1], 's', s, 'c', c + 1, 'p', p)
redis.call('PEXPIRE', KEYS[1], s + 2 * window - now)
return { 1, limit - used - 1, s + window - now }
`

const byHand = async (app) => {
  peerRedis = new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1 })
  peerRedis.defineCommand('slidingByHand', { numberOfKeys: 1, lua: SLIDING_BY_HAND })
  app.addHook('onRequest', async (request, reply) => {
    const [allowed, remaining, resetMs] = await peerRedis.slidingByHand(`bench:hand:${request.ip}`, LIMIT.max, LIMIT.timeWindow)
    return await answer(reply, allowed === 1, remaining, resetMs, resetMs)
  })
}

// The exact sliding log a performance-minded user writes by hand: one sorted
// set per client, pruned, counted and appended in one script on the server
// clock; each member made unique by this process.
const LOG_BY_HAND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, 0, tonumber(oldest[2]) + window - now }
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return { 1, limit - used - 1, window }
`

/** What every hand-written hook here sends: @fastify/rate-limit's headers, and its 429 when refused. */
async function answer (reply, allowed, remaining, resetMs, retryAfterMs) {
  reply.header('x-ratelimit-limit', LIMIT.max)
  reply.header('x-ratelimit-remaining', remaining)
  reply.header('x-ratelimit-reset', Math.ceil(resetMs / 1000))
  if (allowed) return
  reply.header('retry-after', Math.ceil(retryAfterMs / 1000))
  return await reply.code(429).send({ statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded' })
}

const logByHand = async (app) => {
  peerRedis = new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1 })
  peerRedis.defineCommand('logByHand', { numberOfKeys: 1, lua: LOG_BY_HAND })
  let seq = 0
  app.addHook('onRequest', async (request, reply) => {
    const [allowed, remaining, resetMs] = await peerRedis.logByHand(`bench:hand-log:${request.ip}`, LIMIT.max, LIMIT.timeWindow, `${process.pid}:${++seq}`)
    return await answer(reply, allowed === 1, remaining, resetMs, resetMs)
  })
}

let peerRedis
const stores = {
  'raw ioredis auto-pipelined': byHand,
  'raw ioredis auto-pipelined log': logByHand,
  sliding: redkitStore('sliding'),
  'sliding-log': redkitStore('sliding-log'),
  'sliding, app.limiter hook': redkitHook,
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
