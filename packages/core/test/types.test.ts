import { test } from 'tap'
import Fastify from 'fastify'
import fastifyRedis, { type FastifyRedis } from '@fastify/redis'
import { redkit, type Redkit, type RedkitHealth, type RedkitScript, type RedisClient } from '../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (_: T): void {}

test('decorator types', async (t) => {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory', env: {} })
  expectType<Equal<typeof app.redkit, Redkit>>(true)
  expectType<Equal<typeof app.redkit.client, RedisClient | null>>(true)
  expectType<Equal<ReturnType<Redkit['health']>, Promise<RedkitHealth>>>(true)
  expectType<Equal<ReturnType<Redkit['defineScript']>, RedkitScript<unknown>>>(true)
  expectType<Equal<Redkit['mode'], 'redis' | 'memory'>>(true)
  // @ts-expect-error unknown options are rejected by the compiler too
  app.register(redkit, { colour: 'red' })
  t.equal(app.redkit.mode, 'memory')
  await app.close()
})

test('types: @fastify/redis declarations compile together with core\'s', async (t) => {
  // Importing @fastify/redis merges its app.redis into FastifyInstance; core no
  // longer declares app.redis, so the two declarations do not conflict (TS2717).
  const app = Fastify()
  await app.register(fastifyRedis, { lazyConnect: true })
  await app.register(redkit, { mode: 'memory', env: {} })
  expectType<Equal<typeof app.redis, FastifyRedis>>(true)
  expectType<Equal<typeof app.redkit, Redkit>>(true)
  t.equal(app.redkit.mode, 'memory')
  await app.close()
})
