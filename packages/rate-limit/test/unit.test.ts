import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import fastifyRateLimit from '@fastify/rate-limit'
import rateLimit, { clientKeyOf, MemoryBackend, storedKey } from '../src/index.js'
import { checkOptions } from '../src/options.js'
import { buildApp } from './helpers.js'

test('client keys: IPv4, mapped IPv4 and IPv6 prefixes', async (t) => {
  t.equal(clientKeyOf('203.0.113.9', 64), '203.0.113.9')
  t.equal(clientKeyOf('::ffff:203.0.113.9', 64), '203.0.113.9', 'IPv4-mapped IPv6 is the IPv4 client')
  t.equal(clientKeyOf('2001:db8:1:2:3:4:5:6', 64), '2001:db8:1:2:0:0:0:0/64')
  t.equal(clientKeyOf('2001:db8:1:2::ffff', 64), '2001:db8:1:2:0:0:0:0/64', 'compressed form, same /64')
  t.equal(clientKeyOf('2001:DB8:1:2::1', 64), '2001:db8:1:2:0:0:0:0/64', 'case does not matter')
  t.equal(clientKeyOf('2001:db8:1:2::1', 48), '2001:db8:1:0:0:0:0:0/48')
  t.equal(clientKeyOf('2001:db8:1:2::1', 56), '2001:db8:1:0:0:0:0:0/56')
  t.equal(clientKeyOf('2001:db8:1:2ff::1', 56), '2001:db8:1:200:0:0:0:0/56', 'a prefix inside a group')
  t.equal(clientKeyOf('2001:db8::1', 128), '2001:db8:0:0:0:0:0:1/128')
  t.equal(clientKeyOf('fe80::1%eth0', 64), 'fe80:0:0:0:0:0:0:0/64', 'zone ids are dropped')
  t.equal(clientKeyOf('::', 64), '0:0:0:0:0:0:0:0/64')
})

test('stored keys: short keys as is, long or ambiguous keys hashed', async (t) => {
  t.equal(storedKey('user:42', 128), 'user:42')
  t.match(storedKey('x'.repeat(129), 128), /^#[\w-]{43}$/)
  t.match(storedKey('a{b}', 128), /^#/, 'braces would break the hash tag')
  t.not(storedKey('#abc', 128), '#abc', 'keys that look hashed are hashed again')
  t.throws(() => storedKey('', 128), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_KEY' })
})

test('options are checked at register time', async (t) => {
  t.throws(() => checkOptions({ algorithm: 'leaky' as 'fixed' }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', message: /algorithm must be one of/ })
  t.throws(() => checkOptions({ deadline: 0 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', message: /deadline/ })
  t.throws(() => checkOptions({ onRedisError: 'sometimes' as 'open' }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
  t.throws(() => checkOptions({ ipv6Subnet: 129 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
  t.throws(() => checkOptions({ cost: 2 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', message: /per check/ })
  t.throws(() => checkOptions({ limt: 2 } as never), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', message: /unknown option "limt"/ })
  t.same(checkOptions().defaults, { limit: 100, window: 60_000, algorithm: 'sliding', cost: 1, onRedisError: 'open', deadline: 100, onRefusal: 'keep' })

  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, { mode: 'memory', env: {} })
  await t.rejects(async () => {
    await app.register(rateLimit, { window: -1 })
    await app.ready()
  }, { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION', message: /window \(ms\) must be an integer/ })
})

test('a route with an invalid algorithm fails at startup', async (t) => {
  await t.rejects(buildApp(t, { mode: 'memory', env: {} }, { fastifyRateLimit: true }, {}, (app) => {
    app.get('/', { config: { rateLimit: { algorithm: 'leaky' as 'fixed' } } }, async () => 'ok')
  }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
})

test('@fastify/rate-limit registered before redkit keeps its rateLimit(); redkit adds app.limiter', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(fastifyRateLimit, { global: false })
  await app.register(rateLimit, {})
  await app.ready()
  t.type(app.rateLimit, 'function', 'its handler factory is still there')
  t.equal((await app.limiter.check('k', { limit: 1 })).allowed, true)
})

test('memory backend: bounded map and expiry', async (t) => {
  let now = 1_000_000
  const backend = new MemoryBackend(3, () => now)
  t.teardown(() => backend.close())
  const spec = { limit: 1, window: 1000, algorithm: 'fixed' as const, cost: 1 }
  for (const key of ['a', 'b', 'c', 'd']) backend.decide(key, spec, true)
  t.equal(backend.size, 3, 'at most maxKeys entries')
  t.equal(backend.decide('a', spec, true).allowed, true, 'the least recently used key was evicted')
  t.equal(backend.decide('d', spec, true).allowed, false, 'recent keys stay')
  now += 1000
  backend.sweep()
  t.equal(backend.size, 0, 'expired entries are swept')
  t.equal(backend.decide('d', spec, true).allowed, true)
  const bucket = { limit: 2, window: 1000, algorithm: 'token-bucket' as const, cost: 2 }
  backend.decide('tb', bucket, true)
  now += 500
  t.same(backend.decide('tb', bucket, false), { allowed: false, remaining: 1, resetAt: now + 500, retryAfter: 500, now, refused: 0 })
})

test('memory backend: sliding counter on a controlled clock', async (t) => {
  let now = 5_000_000
  const backend = new MemoryBackend(10, () => now)
  t.teardown(() => backend.close())
  const spec = { limit: 10, window: 1000, algorithm: 'sliding' as const, cost: 1 }
  const anchor = now
  for (let i = 0; i < 10; i++) backend.decide('k', spec, true)
  t.same(backend.decide('k', spec, true), { allowed: false, remaining: 0, resetAt: anchor + 2000, retryAfter: 1100, now, refused: 0 },
    'full: one unit frees up a tenth into the next sub-window')
  now = anchor + 1099
  t.equal(backend.decide('k', spec, true).allowed, false, '10 × 901/1000 + 1 > 10')
  now = anchor + 1100
  t.same(backend.decide('k', spec, true), { allowed: true, remaining: 0, resetAt: anchor + 3000, retryAfter: 0, now, refused: 0 },
    '10 × 900/1000 + 1 = 10 fits exactly')
  now = anchor + 1500
  t.same(backend.decide('k', { ...spec, cost: 3 }, false), { allowed: true, remaining: 4, resetAt: anchor + 3000, retryAfter: 0, now, refused: 0 },
    'peek: estimate 10 × 0.5 + 1 = 6, cost 3 fits, nothing taken')
  now = anchor + 2999
  t.equal(backend.decide('k', spec, false).remaining, 9, 'in the third sub-window the previous one holds the single unit')
  now = anchor + 3000
  t.same(backend.decide('k', { ...spec, cost: 10 }, true), { allowed: true, remaining: 0, resetAt: now + 2000, retryAfter: 0, now, refused: 0 },
    'both sub-windows over: the grid is anchored again at this request')
})
