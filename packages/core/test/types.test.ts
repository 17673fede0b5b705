import { test } from 'tap'
import Fastify from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { redkit, type Redkit, type RedkitHealth, type RedkitScript } from '../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (_: T): void {}

test('decorator types', async (t) => {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory', env: {} })
  expectType<Equal<typeof app.redis, Redis | Cluster | null>>(true)
  expectType<Equal<typeof app.redkit, Redkit>>(true)
  expectType<Equal<ReturnType<Redkit['health']>, Promise<RedkitHealth>>>(true)
  expectType<Equal<ReturnType<Redkit['defineScript']>, RedkitScript<unknown>>>(true)
  expectType<Equal<Redkit['mode'], 'redis' | 'memory'>>(true)
  // @ts-expect-error unknown options are rejected by the compiler too
  app.register(redkit, { colour: 'red' })
  t.equal(app.redkit.mode, 'memory')
  await app.close()
})
