import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { makeApp, PREFIX_LABEL, sleep, type Target } from './helpers.js'
import { assertAllKeysExpire } from './ttl-check.js'

const server = await startRedis()
t.teardown(server.stop)

interface Db { users: string[], reads: number, running?: number, most?: number, remaining?: number }

function routes (db: Db) {
  return (app: FastifyInstance): void => {
    app.get('/users', { config: { cache: { ttl: 30_000, tags: ['users'] } } }, async () => {
      db.reads++
      return { users: db.users }
    })
    app.post('/users', { config: { cacheInvalidate: { tags: ['users'] } } }, async (request) => {
      db.users.push((request.body as { name: string }).name)
      return { ok: true }
    })
    app.get('/greeting', {
      config: { cache: { ttl: 30_000, vary: ['accept-language'], key: () => 'greeting', cacheControl: 'public, max-age=30' } }
    }, async (request) => {
      db.reads++
      return request.headers['accept-language'] === 'fr' ? 'bonjour' : 'hello'
    })
    app.get('/private', { config: { cache: { ttl: 30_000 } } }, async (request, reply) => {
      db.reads++
      reply.header('set-cookie', 'session=abc')
      return 'per-user'
    })
    app.get('/missing', { config: { cache: { ttl: 30_000 } } }, async (request, reply) => {
      db.reads++
      return await reply.code(404).send({ error: 'nope' })
    })
    app.get('/slow', { config: { cache: { ttl: 30_000 } } }, async () => {
      db.reads++
      await sleep(30)
      return { slow: true }
    })
    app.get('/unavailable', { config: { cache: { ttl: 30_000 } } }, async (request, reply) => {
      db.reads++
      db.running = (db.running ?? 0) + 1
      db.most = Math.max(db.most ?? 0, db.running)
      await sleep(30)
      db.running--
      return await reply.code(503).send({ error: 'try later' })
    })
  }
}

for (const target of [{ kind: 'redis', url: server.url }, { kind: 'memory' }] as Target[]) {
  t.test(`route cache on ${target.kind}: 304 on a matching If-None-Match, changed body after invalidation`, async (t) => {
    const db = { users: ['ada'], reads: 0 }
    const keyPrefix = uniquePrefix(PREFIX_LABEL)
    const a = await makeApp(t, target, { keyPrefix, routes: routes(db) })
    // With Redis, a second instance shares the cache; in memory mode it is a single instance.
    const b = target.kind === 'redis' ? await makeApp(t, target, { keyPrefix, routes: routes(db) }) : a

    const first = await a.inject('/users')
    t.equal(first.statusCode, 200)
    t.equal(first.headers['x-cache'], 'MISS')
    t.same(first.json(), { users: ['ada'] })
    const etag = first.headers.etag as string
    t.match(etag, /^".+"$/)
    t.equal(first.headers['cache-control'], 'max-age=30')

    const second = await b.inject('/users')
    t.equal(second.headers['x-cache'], 'HIT')
    t.equal(second.body, first.body)
    t.equal(second.headers.etag, etag)
    t.equal(second.headers['content-type'], first.headers['content-type'])
    t.equal(second.headers['cache-control'], 'max-age=30')
    t.equal(db.reads, 1)

    const notModified = await b.inject({ url: '/users', headers: { 'if-none-match': `W/"x", ${etag}` } })
    t.equal(notModified.statusCode, 304)
    t.equal(notModified.body, '')
    t.equal(notModified.headers.etag, etag)
    const other = await a.inject({ url: '/users', headers: { 'if-none-match': '"something-else"' } })
    t.equal(other.statusCode, 200)

    const post = await b.inject({ method: 'POST', url: '/users', payload: { name: 'grace' } })
    t.equal(post.statusCode, 200)
    const after = await a.inject({ url: '/users', headers: { 'if-none-match': etag } })
    t.equal(after.statusCode, 200, 'old ETag no longer matches')
    t.equal(after.headers['x-cache'], 'MISS')
    t.same(after.json(), { users: ['ada', 'grace'] })
    t.not(after.headers.etag, etag)
    t.equal(db.reads, 2)
    const hitAgain = await b.inject({ url: '/users', headers: { 'if-none-match': after.headers.etag as string } })
    t.equal(hitAgain.statusCode, 304)
  })

  t.test(`route cache on ${target.kind}: concurrent misses run the handler once`, async (t) => {
    const db: Db = { users: [], reads: 0 }
    const keyPrefix = uniquePrefix(PREFIX_LABEL)
    const a = await makeApp(t, target, { keyPrefix, routes: routes(db) })
    const b = target.kind === 'redis' ? await makeApp(t, target, { keyPrefix, routes: routes(db) }) : a
    const replies = await Promise.all(Array.from({ length: 40 }, async (_, i) => await (i % 2 === 0 ? a : b).inject('/slow')))
    t.equal(db.reads, 1, 'one handler run for 40 concurrent requests on two instances')
    t.ok(replies.every((r) => r.statusCode === 200 && r.body === '{"slow":true}'))
    t.equal(replies.filter((r) => r.headers['x-cache'] === 'MISS').length, 1, 'the others were answered from the stored response')
    t.equal(new Set(replies.map((r) => r.headers.etag)).size, 1)
    t.ok(a.cache.stats().namespaces.route!.lockWaits + (b === a ? 0 : b.cache.stats().namespaces.route!.lockWaits) > 0, 'requests waited')
  })

  t.test(`route cache on ${target.kind}: a response that is not stored lets the waiting requests run at once`, async (t) => {
    const db: Db = { users: [], reads: 0 }
    const app = await makeApp(t, target, { routes: routes(db) })
    const replies = await Promise.all(Array.from({ length: 8 }, async () => await app.inject('/unavailable')))
    t.ok(replies.every((r) => r.statusCode === 503 && r.headers['x-cache'] === 'MISS'))
    t.equal(db.reads, 8, 'every request ran its handler')
    t.ok(db.most! >= 2, `the waiting requests did not queue one by one (at most ${db.most} at once)`)
    t.equal(await app.cache.ns('route').get('GET:/unavailable'), undefined, 'nothing stored')
  })

  t.test(`route cache on ${target.kind}: vary, cookies and errors`, async (t) => {
    const db: Db = { users: [], reads: 0 }
    const app = await makeApp(t, target, { routes: routes(db) })
    const en = await app.inject({ url: '/greeting', headers: { 'accept-language': 'en' } })
    const fr = await app.inject({ url: '/greeting', headers: { 'accept-language': 'fr' } })
    t.equal(en.body, 'hello')
    t.equal(fr.body, 'bonjour')
    t.equal(fr.headers.vary, 'accept-language')
    t.equal(fr.headers['cache-control'], 'public, max-age=30')
    const frAgain = await app.inject({ url: '/greeting', headers: { 'accept-language': 'fr' } })
    t.equal(frAgain.body, 'bonjour')
    t.equal(frAgain.headers['x-cache'], 'HIT')
    t.equal(db.reads, 2)

    await app.inject('/private')
    const again = await app.inject('/private')
    t.equal(again.headers['x-cache'], 'MISS', 'responses that set cookies are not stored')
    await app.inject('/missing')
    const missing = await app.inject('/missing')
    t.equal(missing.statusCode, 404)
    t.equal(missing.headers['x-cache'], 'MISS', 'only 200 responses are stored')
    t.equal(db.reads, 6)
  })
}

function personalRoutes (db: Db) {
  return (app: FastifyInstance): void => {
    // What a rate limiter does: a per-client header set before the cache answers.
    app.addHook('onRequest', async (request, reply) => {
      db.remaining = (db.remaining ?? 100) - 1
      reply.header('x-ratelimit-remaining', String(db.remaining))
      reply.header('ratelimit-policy', '10;w=60')
    })
    app.get('/me', { config: { cache: { ttl: 30_000, omitHeaders: ['x-served-to'] } } }, async (request, reply) => {
      db.reads++
      const who = request.headers.authorization ?? request.headers.cookie ?? 'anonymous'
      reply.header('x-served-to', who)
      reply.header('retry-after', '1')
      return { who }
    })
    app.get('/public', { config: { cache: { ttl: 30_000, shared: true } } }, async () => {
      db.reads++
      return { same: 'for everyone' }
    })
    app.get('/per-user', { config: { cache: { ttl: 30_000, vary: ['authorization'] } } }, async (request) => {
      db.reads++
      return { who: request.headers.authorization }
    })
    app.get('/private-control', { config: { cache: { ttl: 30_000 } } }, async (request, reply) => {
      db.reads++
      reply.header('cache-control', 'private, max-age=60')
      return 'mine'
    })
  }
}

for (const kind of ['redis', 'memory'] as const) {
  t.test(`route cache on ${kind}: one user's response is never served to another`, async (t) => {
    const db: Db = { users: [], reads: 0 }
    const keyPrefix = uniquePrefix(PREFIX_LABEL)
    const target: Target = kind === 'redis' ? { kind, url: server.url } : { kind }
    const a = await makeApp(t, target, { keyPrefix, routes: personalRoutes(db) })
    // On Redis, a second instance shares the cache.
    const b = kind === 'redis' ? await makeApp(t, target, { keyPrefix, routes: personalRoutes(db) }) : a
    const as = (app: FastifyInstance, headers: Record<string, string>) => async () => await app.inject({ url: '/me', headers })

    const alice = await as(a, { authorization: 'Bearer alice' })()
    t.same(alice.json(), { who: 'Bearer alice' })
    t.equal(alice.headers['x-cache'], 'BYPASS')
    for (const app of [a, b]) {
      const bob = await as(app, { authorization: 'Bearer bob' })()
      t.same(bob.json(), { who: 'Bearer bob' }, 'bob gets his own response')
      t.equal(bob.headers['x-served-to'], 'Bearer bob')
    }
    const carol = await as(b, { cookie: 'sid=carol' })()
    t.same(carol.json(), { who: 'sid=carol' }, 'a request with a cookie bypasses the cache too')
    t.equal(await b.inject('/me').then((r) => r.json().who), 'anonymous')
    t.equal(await a.inject({ url: '/me', headers: { authorization: 'Bearer alice' } }).then((r) => r.json().who), 'Bearer alice',
      'a stored anonymous response is not served to an authenticated request')
    t.equal(await b.inject({ url: '/me', headers: { cookie: 'sid=dave' } }).then((r) => r.json().who), 'sid=dave')

    const anonymous = await a.inject('/me')
    t.equal(anonymous.headers['x-cache'], 'HIT', 'anonymous requests are still cached')
    t.equal(anonymous.headers['x-served-to'], undefined, 'a header the route omits is not replayed')
    t.equal(anonymous.headers['retry-after'], undefined, 'retry-after is not replayed')
    t.equal(anonymous.headers['x-ratelimit-remaining'], String(Number(anonymous.headers['x-ratelimit-remaining'])), 'the caller\'s own rate-limit header')
    const first = await b.inject('/public')
    const second = await a.inject('/public')
    t.equal(second.headers['x-cache'], 'HIT')
    t.not(second.headers['x-ratelimit-remaining'], first.headers['x-ratelimit-remaining'], 'a hit carries this caller\'s remaining count, not the first caller\'s')

    const shared = await a.inject({ url: '/public', headers: { authorization: 'Bearer alice' } })
    t.equal(shared.headers['x-cache'], 'HIT', 'shared: true caches for authenticated requests')
    const aliceOwn = await a.inject({ url: '/per-user', headers: { authorization: 'Bearer alice' } })
    const bobOwn = await b.inject({ url: '/per-user', headers: { authorization: 'Bearer bob' } })
    const aliceAgain = await b.inject({ url: '/per-user', headers: { authorization: 'Bearer alice' } })
    t.same([aliceOwn.json().who, bobOwn.json().who, aliceAgain.json().who], ['Bearer alice', 'Bearer bob', 'Bearer alice'])
    t.equal(aliceAgain.headers['x-cache'], 'HIT', 'vary: [authorization] keeps one entry per user')

    await a.inject('/private-control')
    t.equal((await b.inject('/private-control')).headers['x-cache'], 'MISS', 'Cache-Control: private from the handler is not stored')
    for (const url of ['/me', '/public', '/per-user', '/private-control']) {
      const stored = await a.cache.ns('route').get<{ h: Record<string, unknown> }>(`GET:${url}`)
      if (stored === undefined) continue
      const names = Object.keys(stored.h).filter((h) => /ratelimit|retry-after|set-cookie|x-served-to/.test(h))
      t.same(names, [], `no per-client header stored for ${url}`)
    }
  })
}

t.test('invalid route config fails when the app is made ready', async (t) => {
  const bad = [{ ttl: 0 }, { key: 'nope' }, { tags: 'users' }, { vary: ['bad header'] }, { shared: 'yes' }, { omitHeaders: 'x-a' }]
  for (const cache of bad) {
    await t.rejects(makeApp(t, { kind: 'memory' }, {
      routes: (app) => { app.get('/x', { config: { cache: cache as never } }, async () => 'x') }
    }), { code: 'FST_REDKIT_CACHE_INVALID_OPTION' })
  }
  await t.rejects(makeApp(t, { kind: 'memory' }, {
    routes: (app) => { app.post('/x', { config: { cacheInvalidate: {} as never } }, async () => 'x') }
  }), { code: 'FST_REDKIT_CACHE_INVALID_OPTION' })
})

t.test('zero keys without a TTL after the suite', async (t) => {
  await assertAllKeysExpire(t, server.client())
})
