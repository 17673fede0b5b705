import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import locks, { type LockPluginOptions } from '../src/index.js'

const bad: Array<[string, unknown]> = [
  ['ttl', { ttl: 0 }],
  ['ttl', { ttl: '100' }],
  ['timeout', { timeout: -1 }],
  ['pollInterval', { pollInterval: 1 }],
  ['counterTtl', { counterTtl: 1000 }],
  ['onRedisError', { onRedisError: 'maybe' }],
  ['statusCode', { statusCode: 500 }],
  ['unknown option "ttls"', { ttls: 5 }]
]

for (const [what, opts] of bad) {
  test(`register refuses a bad ${what}`, async (t) => {
    const app = Fastify()
    await app.register(redkit, { mode: 'memory', env: {} })
    app.register(locks, opts as LockPluginOptions)
    const err = await app.ready().then(() => null, (e: unknown) => e) as { code: string, message: string }
    t.equal(err.code, 'FST_REDKIT_LOCK_INVALID_OPTION')
    t.match(err.message, what)
    await app.close()
  })
}

test('register needs @redkit/core', async (t) => {
  const app = Fastify()
  app.register(locks)
  await t.rejects(async () => { await app.ready() }, /@redkit\/core/)
  await app.close()
})
