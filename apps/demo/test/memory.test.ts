import { test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

function cookieOf (res: LightMyRequestResponse): string {
  const raw = res.headers['set-cookie']
  const first = Array.isArray(raw) ? raw[0] : raw
  return (first ?? '').split(';')[0]!
}

test('memory mode: every route on one instance', async (t) => {
  const config = loadConfig({ SESSION_SECRET: 'memory-smoke-test-secret-of-32-characters', ADMIN_TOKEN: 'memory-admin-token' })
  const app: FastifyInstance = await buildApp(config, { redis: { mode: 'memory', env: {} }, logger: false })
  t.teardown(async () => await app.close())
  await app.ready()
  t.equal(app.redkit.mode, 'memory')

  const login = await app.inject({ method: 'POST', url: '/login', payload: { username: 'erin' } })
  t.equal(login.statusCode, 200)
  const cookie = cookieOf(login)
  t.match(cookie, /^sessionId=/)

  const me1 = await app.inject({ url: '/me', headers: { cookie } })
  const me2 = await app.inject({ url: '/me', headers: { cookie } })
  t.match(me1.json(), { userId: 'erin', views: 1 })
  t.match(me2.json(), { userId: 'erin', views: 2 })

  const bad = await app.inject({ method: 'POST', url: '/login', payload: { username: 'no spaces*' } })
  t.equal(bad.statusCode, 400, 'usernames are validated')

  const bridge = await app.inject({ method: 'POST', url: '/bridge', headers: { cookie } })
  const { token } = bridge.json() as { token: string }
  t.equal((await app.inject({ url: `/bridge/${token}` })).json().userId, 'erin')
  t.equal((await app.inject({ url: `/bridge/${token}` })).statusCode, 410, 'only once')
  t.equal((await app.inject({ method: 'POST', url: '/bridge' })).statusCode, 401, 'bridge needs a login')

  const job = await app.inject({ method: 'POST', url: '/jobs/nightly/run?ms=1' })
  t.equal(job.statusCode, 200)
  t.ok(job.json().token > 0, 'fencing token in memory mode')
  const [held, refused] = await Promise.all([
    app.inject({ method: 'POST', url: '/jobs/slow/run?ms=200' }),
    new Promise((resolve) => setTimeout(resolve, 50)).then(async () => await app.inject({ method: 'POST', url: '/jobs/slow/run?ms=1' }))
  ])
  t.equal(held.statusCode, 200)
  t.equal(refused.statusCode, 409, 'a running job refuses a second run')
  t.ok(refused.headers['retry-after'] !== undefined)

  const notify = await app.inject({ method: 'POST', url: '/notify', payload: { message: 'hi' } })
  t.equal(notify.statusCode, 200)
  t.type(notify.json().receivers, 'number')

  const list = await app.inject({ url: '/api/items' })
  t.equal(list.statusCode, 200)
  t.equal(list.json().items.length, 3)
  const etag = list.headers.etag as string
  t.equal((await app.inject({ url: '/api/items', headers: { 'if-none-match': etag } })).statusCode, 304)
  t.equal((await app.inject({ method: 'PUT', url: '/api/items/4', payload: { name: 'Spoon', price: 2 } })).statusCode, 200)
  const after = await app.inject({ url: '/api/items', headers: { 'if-none-match': etag } })
  t.equal(after.statusCode, 200, 'invalidated')
  t.equal(after.json().items.length, 4)

  const everywhere = await app.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie } })
  t.same(everywhere.json(), { revoked: 0 })
  t.equal((await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })).statusCode, 204)
  t.match((await app.inject({ url: '/me', headers: { cookie } })).json(), { userId: null })

  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { mode: 'memory' })
  t.equal((await app.inject({ url: '/admin/sessions/stats' })).statusCode, 401, 'admin needs the token')
  t.equal((await app.inject({ url: '/admin/sessions/stats', headers: { authorization: 'Bearer memory-admin-token' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/docs/json' })).statusCode, 200, 'OpenAPI document')
  t.ok(Object.keys((await app.inject({ url: '/docs/json' })).json().paths).includes('/jobs/{id}/run'))

  const limited = []
  for (let i = 0; i < 6; i++) limited.push((await app.inject({ method: 'POST', url: '/login', payload: { username: 'frank' } })).statusCode)
  t.same(limited, [200, 200, 200, 200, 200, 429], 'login is rate-limited to 5 per minute')
})

test('configuration errors name the variable', async (t) => {
  t.throws(() => loadConfig({ SESSION_SECRET: 'short' }), /SESSION_SECRET must be at least 32 characters/)
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), /SESSION_SECRET is required when NODE_ENV=production/)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT must be an integer/)
  const generated = loadConfig({})
  t.same(generated.generated, ['SESSION_SECRET', 'ADMIN_TOKEN'])
})
