import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import swagger from '@fastify/swagger'
import { Registry } from 'prom-client'
import redkitAdmin, { checkOptions, MIN_TOKEN_LENGTH } from '../src/index.js'
import { tokenMatches } from '../src/auth.js'
import { createHash } from 'node:crypto'
import redkitSession from '@redkit/session'
import locks from '@redkit/lock'
import pubsub from '@redkit/pubsub'
import redkitCache from '@redkit/cache'
import redkitRateLimit from '@redkit/rate-limit'
import { AUTH, build, concrete, TOKEN } from './helpers.js'

const memory = { mode: 'memory' as const, env: {} }

test('refuses to register without authentication', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, memory)
  app.register(redkitAdmin, {})
  await t.rejects(async () => { await app.ready() }, { code: 'FST_REDKIT_ADMIN_INVALID_OPTION', message: /token.*auth.*dangerouslyDisableAuth/ })
})

test('option checks', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ token: 'short' }, /at least 16/],
    [{ token: 123 }, /token must be a string/],
    [{ auth: 'yes' }, /auth must be a function/],
    [{ token: TOKEN, dangerouslyDisableAuth: true }, /cannot be combined/],
    [{ token: TOKEN, prefix: 'admin' }, /prefix must start with/],
    [{ token: TOKEN, prefix: '/ad*min' }, /prefix must start with/],
    [{ token: TOKEN, readyTimeout: 0 }, /readyTimeout/],
    [{ token: TOKEN, healthPrefix: '/admin' }, /healthPrefix must differ/],
    [{ token: TOKEN, registry: {} }, /registry/],
    [{ token: TOKEN, colour: 'red' }, /unknown option "colour"/],
    [{ dangerouslyDisableAuth: 'yes' }, /true or false/]
  ]
  for (const [opts, message] of cases) {
    t.throws(() => checkOptions(opts as never), { code: 'FST_REDKIT_ADMIN_INVALID_OPTION', message }, JSON.stringify(opts))
  }
  t.notOk(JSON.stringify(t.throws(() => checkOptions({ token: 'secret-ish' }))).includes('secret-ish'), 'a token is never echoed')
  t.equal(MIN_TOKEN_LENGTH, 16)
  t.equal(checkOptions({ token: TOKEN, prefix: '/ops/' }).prefix, '/ops')
})

test('tokens are compared on equal-length digests', async (t) => {
  const expected = createHash('sha256').update(TOKEN).digest()
  t.ok(tokenMatches(expected, TOKEN))
  t.notOk(tokenMatches(expected, TOKEN + 'x'), 'longer')
  t.notOk(tokenMatches(expected, 'x'), 'shorter')
  t.notOk(tokenMatches(expected, ''), 'empty')
})

test('an auth hook, alone or with a token', async (t) => {
  const hooked = await build(t, memory, {
    packages: [],
    admin: { auth: (request) => request.headers['x-role'] === 'admin' }
  })
  t.equal((await hooked.app.inject({ url: '/admin/overview' })).statusCode, 401)
  t.equal((await hooked.app.inject({ url: '/admin/overview', headers: { 'x-role': 'user' } })).statusCode, 401)
  t.equal((await hooked.app.inject({ url: '/admin/overview', headers: { 'x-role': 'admin' } })).statusCode, 200)
  t.equal((await hooked.app.inject({ url: '/admin/overview', headers: AUTH })).statusCode, 401, 'no token configured')

  const both = await build(t, memory, {
    packages: [],
    admin: { token: TOKEN, auth: async (request) => request.headers['x-role'] === 'admin' }
  })
  t.equal((await both.app.inject({ url: '/admin/overview', headers: AUTH })).statusCode, 200, 'token passes')
  t.equal((await both.app.inject({ url: '/admin/overview', headers: { 'x-role': 'admin' } })).statusCode, 200, 'hook passes')
  t.equal((await both.app.inject({ url: '/admin/overview' })).statusCode, 401)

  const throwing = await build(t, memory, { packages: [], admin: { auth: () => { throw new Error('boom') } } })
  const res = await throwing.app.inject({ url: '/admin/overview' })
  t.equal(res.statusCode, 401, 'a throwing hook refuses')
  t.equal(res.json().code, 'FST_REDKIT_ADMIN_UNAUTHORIZED')
})

test('behind an existing auth plugin: a preHandler-style decorator', async (t) => {
  const { app } = await build(t, memory, {
    packages: [],
    admin: { auth: (request) => (request as unknown as { user?: { isAdmin?: boolean } }).user?.isAdmin === true },
    extra: () => {}
  })
  t.equal((await app.inject({ url: '/admin/overview' })).statusCode, 401)
  const withUser = Fastify()
  t.teardown(async () => await withUser.close())
  withUser.decorateRequest('user', null)
  withUser.addHook('onRequest', async (request) => {
    (request as unknown as { user: unknown }).user = request.headers.cookie === 'sid=admin' ? { isAdmin: true } : { isAdmin: false }
  })
  await withUser.register(redkit, memory)
  await withUser.register(redkitAdmin, { auth: (request) => (request as unknown as { user?: { isAdmin?: boolean } }).user?.isAdmin === true })
  t.equal((await withUser.inject({ url: '/admin/overview', headers: { cookie: 'sid=admin' } })).statusCode, 200)
  t.equal((await withUser.inject({ url: '/admin/overview', headers: { cookie: 'sid=user' } })).statusCode, 401)
})

test('behind an onRequest hook of an enclosing scope, as with @fastify/auth', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, memory)
  app.decorateRequest('user', null)
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (request.headers.cookie !== 'sid=admin') return await reply.code(403).send({ message: 'forbidden by the app' })
      ;(request as unknown as { user: unknown }).user = { isAdmin: true }
    })
    await scope.register(redkitAdmin, { auth: (request) => (request as unknown as { user?: { isAdmin?: boolean } }).user?.isAdmin === true })
  })
  await app.ready()
  t.equal((await app.inject({ url: '/admin/overview', headers: { cookie: 'sid=admin' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/admin/overview', headers: { cookie: 'sid=user' } })).statusCode, 403, 'the app hook refuses first')
  t.equal((await app.inject({ url: '/admin/', headers: { cookie: 'sid=user' } })).statusCode, 403, 'the dashboard is guarded too')
})

test('dangerouslyDisableAuth opens every route', async (t) => {
  const { app, routes } = await build(t, memory, { packages: [], admin: { dangerouslyDisableAuth: true } })
  for (const { method, url } of routes.filter((r) => r.url.startsWith('/admin') && r.method === 'GET')) {
    const res = await app.inject({ method: method as 'GET', url: concrete(url) })
    t.not(res.statusCode, 401, `${method} ${url}`)
  }
})

test('custom prefix, health outside it, unregistered packages', async (t) => {
  const { app, routes } = await build(t, memory, { packages: [], admin: { token: TOKEN, prefix: '/ops', healthPrefix: '' } })
  t.ok(routes.some((r) => r.url === '/ops/overview'))
  t.notOk(routes.some((r) => r.url === '/ops/sessions'), 'no route of a package that is not registered')
  t.notOk(routes.some((r) => r.url.startsWith('/admin')))
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.equal((await app.inject({ url: '/ready' })).json().status, 'ok')
  t.equal((await app.inject({ url: '/ops/health' })).statusCode, 200)
  for (const url of ['/ops/sessions', '/ops/sessions/stats', '/ops/locks', '/ops/pubsub', '/ops/cache/stats', '/ops/rate-limit/k']) {
    const res = await app.inject({ url, headers: AUTH })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().code, 'FST_REDKIT_ADMIN_NOT_REGISTERED', url)
    const anonymous = await app.inject({ url })
    t.equal(anonymous.statusCode, 401, `${url} without credentials: which packages run is not told`)
    t.equal(anonymous.json().code, 'FST_REDKIT_ADMIN_UNAUTHORIZED', url)
  }
  const overview = (await app.inject({ url: '/ops/overview', headers: AUTH })).json()
  t.same(overview.packages, {}, 'no package described itself')
  const all = await build(t, memory)
  t.same((await all.app.inject({ url: '/admin/overview', headers: AUTH })).json().packages,
    { session: true, lock: true, pubsub: true, cache: true, 'rate-limit': true }, 'the packages that described themselves')
})

test('readiness reports down with 503 when Redis does not answer in time', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, memory)
  await app.register(redkitAdmin, { token: TOKEN, readyTimeout: 50 })
  await app.ready()
  // A ping that never answers stands in for a paused server.
  const original = app.redkit.health
  ;(app.redkit as { health: typeof original }).health = async () => await new Promise(() => {})
  t.teardown(() => { (app.redkit as { health: typeof original }).health = original })
  const started = Date.now()
  const res = await app.inject({ url: '/admin/ready' })
  t.equal(res.statusCode, 503)
  t.match(res.json(), { status: 'down', mode: 'memory', error: /within 50 ms/ })
  t.ok(Date.now() - started < 2000, 'answered near the deadline')
  t.equal((await app.inject({ url: '/admin/health' })).statusCode, 200, 'liveness is unaffected')
})

test('@fastify/swagger documents every route with its schemas, those of the packages too', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(swagger, { openapi: { info: { title: 'x', version: '1' } } })
  await app.register(redkit, memory)
  await app.register(redkitSession, { secret: 'a-session-secret-of-at-least-32-characters' })
  await app.register(locks)
  await app.register(pubsub)
  await app.register(redkitAdmin, { token: TOKEN })
  // Registered after admin: their routes are documented all the same.
  await app.register(redkitCache)
  await app.register(redkitRateLimit)
  await app.ready()
  const doc = app.swagger() as { paths: Record<string, Record<string, { responses?: Record<string, unknown>, parameters?: unknown[] }>> }
  const paths = Object.keys(doc.paths)
  for (const path of ['/admin/health', '/admin/ready', '/admin/sessions', '/admin/sessions/{id}', '/admin/users/{userId}/sessions',
    '/admin/sessions/cleanup', '/admin/locks', '/admin/pubsub', '/admin/cache/stats', '/admin/cache', '/admin/rate-limit/{key}',
    '/admin/redis/info', '/admin/redis/slowlog', '/admin/metrics']) {
    t.ok(paths.includes(path), `${path} documented`)
  }
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) t.ok(op.responses?.['200'], `${method} ${path} has a 200 response`)
  }
  t.ok(doc.paths['/admin/sessions']?.get?.parameters?.length, 'query parameters documented')
})

test('the dashboard page is static, strict and carries no data', async (t) => {
  const { app } = await build(t, memory, { packages: [] })
  const res = await app.inject({ url: '/admin/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.headers['content-security-policy'], /default-src 'none'; script-src 'sha256-/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.notOk(res.body.includes(TOKEN))
  t.match(res.body, /sessionStorage/)
  t.match(res.body, /authorization = 'Bearer '/)
  t.notOk(/innerHTML/.test(res.body), 'server text is never parsed as HTML')
  const off = await build(t, memory, { packages: [], admin: { token: TOKEN, dashboard: false, metrics: false } })
  t.equal((await off.app.inject({ url: '/admin/', headers: AUTH })).statusCode, 404)
  t.equal((await off.app.inject({ url: '/admin/' })).statusCode, 401, 'without credentials an absent dashboard is not told apart from a route')
  t.equal((await off.app.inject({ url: '/admin/metrics', headers: AUTH })).statusCode, 404)
})

test('each plugin instance has its own registry, or the one passed in', async (t) => {
  const registry = new Registry()
  const a = await build(t, memory, { packages: [], admin: { token: TOKEN, registry } })
  const b = await build(t, memory, { packages: [] })
  t.ok((await registry.metrics()).includes('redkit_redis_commands_total'))
  t.equal((await a.app.inject({ url: '/admin/metrics', headers: AUTH })).statusCode, 200)
  t.equal((await b.app.inject({ url: '/admin/metrics', headers: AUTH })).statusCode, 200, 'no duplicate metric names across instances')
  const { register } = await import('prom-client')
  t.notOk((await register.metrics()).includes('redkit_'), 'the global registry is untouched')
})

test('the dashboard is built from the asset files, which ship in the package, and its CSP hashes them', async (t) => {
  const { readFileSync } = await import('node:fs')
  const read = (name: string): string => readFileSync(new URL(`../assets/${name}`, import.meta.url), 'utf8')
  const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
  const { app } = await build(t, memory, { packages: [] })
  const res = await app.inject({ url: '/admin/' })
  t.ok(res.body.includes(`<style>${read('dashboard.css')}</style>`), 'the stylesheet inlined as is')
  t.ok(res.body.includes(`<script>${read('dashboard.js')}</script>`), 'the script inlined as is')
  t.notOk(res.body.includes('inlined here at startup'), 'no slot left')
  t.match(res.headers['content-security-policy'], `script-src ${hash(read('dashboard.js'))};`)
  t.match(res.headers['content-security-policy'], `style-src ${hash(read('dashboard.css'))};`)
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] }
  t.ok(pkg.files.includes('assets'), 'assets are published')
})
