import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyRedis from '@fastify/redis'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { redkit } from '../src/index.js'

// Apps moving from @fastify/redis to redkit register both for a while.
for (const order of ['@fastify/redis first', '@redkit/core first'] as const) {
  test(`registers together with @fastify/redis (${order})`, async (t) => {
    const server = await startRedis()
    t.teardown(server.stop)
    const app: FastifyInstance = Fastify()
    t.teardown(async () => await app.close())
    const prefix = uniquePrefix('fr')
    const withFastifyRedis = async (): Promise<void> => { await app.register(fastifyRedis, { url: server.url, closeClient: true }) }
    const withRedkit = async (): Promise<void> => { await app.register(redkit, { url: server.url, keyPrefix: prefix, env: {} }) }
    if (order === '@fastify/redis first') {
      await withFastifyRedis()
      await withRedkit()
    } else {
      await withRedkit()
      await withFastifyRedis()
    }
    await app.ready()
    t.not(app.redis, app.redkit.client, 'each plugin keeps its own client')
    const key = `${prefix}shared`
    t.equal(await app.redis.set(key, 'v', 'PX', 60_000), 'OK')
    t.equal(await app.redkit.client!.get(key), 'v', 'both reach the same server')
    t.equal(app.redkit.mode, 'redis')
  })
}
