// Compiled by test/types-fixture.test.ts with skipLibCheck off: every plugin's
// declarations, augmentations included, must compile together.
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import fastifyRateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import redkit from '@redkit/core'
import redkitSession from '@redkit/session'
import locks from '@redkit/lock'
import pubsub from '@redkit/pubsub'
import cache from '@redkit/cache'
import rateLimit, { type RateLimitDecision } from '@redkit/rate-limit'

export async function build (): Promise<unknown[]> {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory' })
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: 'a'.repeat(32) })
  await app.register(redkitSession, { secret: 'b'.repeat(32) })
  await app.register(locks)
  await app.register(pubsub)
  await app.register(cache)
  await app.register(rateLimit)
  const store: FastifyRateLimitStoreCtor = app.limiter.store({ algorithm: 'fixed' })
  await app.register(fastifyRateLimit, { max: 10, store, ban: 2, continueExceeding: true })

  app.get('/a', { config: { rateLimit: { max: 2, algorithm: 'token-bucket', cost: 1, onRedisError: 'closed', deadline: 50 } } }, async () => 'ok')
  // @ts-expect-error algorithm is a closed set
  app.get('/b', { config: { rateLimit: { algorithm: 'leaky' } } }, async () => 'ok')
  app.get('/c', { onRequest: app.rateLimit({ max: 2, timeWindow: 1000 }) }, async () => 'ok')

  const decision: RateLimitDecision = await app.limiter.check('k')
  const client = app.redkit.client
  return [decision.refused, client, app.sessions, app.locks, app.pubsub, app.cache, app.createRateLimit()]
}
