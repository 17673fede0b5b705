import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import fastifyRateLimit from '@fastify/rate-limit'
import rateLimit, {
  type RateLimitDecision, type RateLimitMetrics, type RateLimitStoreClass
} from '../src/index.js'

function expectType<T> (value: T): T {
  return value
}

test('decorator types', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(rateLimit, { algorithm: 'token-bucket', limit: 10, window: 1000, onRedisError: 'closed', deadline: 50 })
  await app.register(fastifyRateLimit, { store: app.limiter.store({ algorithm: 'fixed' }), max: 5 })
  app.get('/', { config: { rateLimit: { max: 2, algorithm: 'sliding', onRedisError: 'open', cost: 1 } } }, async () => 'ok')
  app.get('/log', { config: { rateLimit: { max: 2, algorithm: 'sliding-log' } } }, async () => 'ok')
  await app.ready()

  const decision = expectType<RateLimitDecision>(await app.limiter.check('k', { cost: 2 }))
  expectType<boolean>(decision.allowed)
  expectType<number>(decision.remaining)
  expectType<number>(decision.resetAt)
  expectType<number>(decision.retryAfter)
  expectType<Promise<RateLimitDecision>>(app.limiter.peek('k'))
  expectType<Promise<void>>(app.limiter.reset('k'))
  expectType<RateLimitStoreClass>(app.limiter.store())
  expectType<RateLimitMetrics>(app.limiter.metrics())
  expectType<'redis' | 'memory'>(app.limiter.backend)
  // @ts-expect-error algorithm is a closed set
  await t.rejects(app.limiter.check('k', { algorithm: 'leaky' }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
  // @ts-expect-error onRedisError is 'open' or 'closed'
  await t.rejects(app.limiter.check('k', { onRedisError: 'maybe' }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })

  t.equal(decision.remaining, 8, 'a memory token bucket with cost 2 leaves 8 of 10')
  t.equal((await app.inject({ url: '/' })).statusCode, 200)
  t.equal((await app.inject({ url: '/log' })).statusCode, 200)
})
