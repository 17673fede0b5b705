import { test } from 'tap'
import createError from '@fastify/error'
import { Redis } from 'ioredis'
import { startRedis } from '@redkit/testing'
import {
  ExpiringMap, MS_OF, SERVER_NOW_MS, US_OF, optionChecker, pageQuerySchema, fieldsSchema, panelValues, typedFields
} from '../src/kit.js'

const TestOptionError = createError('FST_REDKIT_TEST_INVALID_OPTION', 'Invalid option: %s', 500)
const check = optionChecker(TestOptionError)

test('optionChecker: integer bounds, fallback and the package\'s own code', async (t) => {
  t.equal(check.integer(undefined, 'ttl', 1, 10, 5), 5)
  t.equal(check.integer(7, 'ttl', 1, 10), 7)
  t.throws(() => check.integer(undefined, 'ttl', 1, 10), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /ttl must be an integer from 1 to 10, got undefined/ })
  t.throws(() => check.integer(11, 'ttl', 1, 10), { code: 'FST_REDKIT_TEST_INVALID_OPTION' })
  t.throws(() => check.integer(1.5, 'ttl', 1, 10), { code: 'FST_REDKIT_TEST_INVALID_OPTION' })
  t.throws(() => check.integer('3', 'ttl', 1, 10, 5), { code: 'FST_REDKIT_TEST_INVALID_OPTION' })
})

test('optionChecker: unknown names, booleans, objects and onRedisError', async (t) => {
  t.doesNotThrow(() => check.known({ a: 1 }, ['a', 'b']))
  t.throws(() => check.known({ c: 1 }, new Set(['a', 'b']), 'memory'), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /unknown option "memory.c"; expected one of a, b/ })
  t.same(check.object(undefined, 'l1'), {})
  t.throws(() => check.object([], 'l1'), { message: /l1 must be an object/ })
  t.equal(check.boolean(undefined, 'rolling', true), true)
  t.equal(check.boolean(false, 'rolling', true), false)
  t.throws(() => check.boolean('yes', 'rolling', true), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /rolling must be true or false, got "yes"/ })
  t.equal(check.onRedisError(undefined, 'closed'), 'closed')
  t.equal(check.onRedisError('open', 'closed'), 'open')
  t.throws(() => check.onRedisError(true, 'closed'), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /onRedisError must be 'open' or 'closed', got true/ })
})

test('optionChecker: option objects, one-of values and functions', async (t) => {
  t.same(check.options(undefined, ['a']), {})
  t.same(check.options({ a: 1 }, ['a']), { a: 1 })
  for (const bad of [null, [], 'a', 1]) {
    t.throws(() => check.options(bad, ['a']), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /options must be an object/ }, JSON.stringify(bad))
  }
  t.throws(() => check.options([], ['a'], 'cookie'), { message: /cookie must be an object/ })
  t.throws(() => check.options({ b: 1 }, ['a'], 'cookie'), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /unknown option "cookie.b"/ })
  t.equal(check.oneOf(undefined, 'statusCode', [409, 423], 423), 423)
  t.equal(check.oneOf(409, 'statusCode', [409, 423]), 409)
  t.throws(() => check.oneOf(500, 'statusCode', [409, 423]), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /statusCode must be 409 or 423, got 500/ })
  t.throws(() => check.oneOf('leaky', 'algorithm', ['fixed', 'sliding', 'token-bucket']), {
    message: /algorithm must be one of 'fixed', 'sliding', 'token-bucket', got "leaky"/
  })
  const fn = (): number => 1
  t.equal(check.func(fn, 'auth'), fn)
  t.equal(check.func(undefined, 'auth'), undefined)
  t.throws(() => check.func('yes', 'auth', '(request) => boolean'), { code: 'FST_REDKIT_TEST_INVALID_OPTION', message: /auth must be a function \(request\) => boolean/ })
})

test('ExpiringMap: expiry, size bound (oldest write evicted) and sweep', async (t) => {
  let now = 1000
  const map = new ExpiringMap<string, number>(2, () => now)
  map.set('a', 1, 2000).set('b', 2, 1500)
  t.equal(map.get('a'), 1)
  map.set('a', 3, 2000) // rewritten: now the most recent
  map.set('c', 4, 3000)
  t.equal(map.size, 2)
  t.equal(map.get('b'), undefined, 'the oldest write was evicted')
  t.equal(map.get('a'), 3)
  now = 2000
  t.equal(map.get('a'), undefined, 'expired at its time')
  t.equal(map.sweep(), 0)
  now = 3000
  t.equal(map.sweep(), 1)
  t.equal(map.size, 0)
})

test('SERVER_NOW_MS, MS_OF and US_OF read the Redis server clock in ms and µs', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const client = new Redis(server.url, { lazyConnect: true })
  t.teardown(() => client.disconnect())
  const [seconds] = await client.time()
  const now = Number(await client.eval(`${SERVER_NOW_MS}\nreturn now`, 0))
  const viaMsOf = Number(await client.eval(`${MS_OF}\nreturn msOf(redis.call('TIME'))`, 0))
  t.ok(now >= Number(seconds) * 1000 && now < (Number(seconds) + 3600) * 1000, 'ms since the epoch, from the server')
  t.ok(viaMsOf >= now)
  const viaUsOf = Number(await client.eval(`${US_OF}\nreturn string.format('%d', usOf(redis.call('TIME')))`, 0))
  t.ok(viaUsOf >= viaMsOf * 1000 && viaUsOf < (viaMsOf + 3_600_000) * 1000, 'µs, from the same clock')
})

test('description helpers: page query, typed fields and panel values', async (t) => {
  t.same(pageQuerySchema({ maxLength: 10 }), {
    type: 'object',
    properties: { cursor: { type: 'string', minLength: 1, maxLength: 10 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
    additionalProperties: false
  })
  t.same(typedFields(['a', 'b'], 'number'), { a: { type: 'number' }, b: { type: 'number' } })
  t.same(fieldsSchema(['hits']), { type: 'object', properties: { hits: { type: 'integer' } } })
  t.same(panelValues(['Hits', 'hits'], ['Rate', 'rate', 'percent']), [{ label: 'Hits', path: 'hits' }, { label: 'Rate', path: 'rate', format: 'percent' }])
})
