import { readFileSync } from 'node:fs'
import { test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { ROUTES } from '../src/routes/home.js'

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

  for (const [method, url, payload] of [['POST', '/jobs/nightly/run?ms=1', undefined], ['POST', '/notify', { message: 'hi' }],
    ['PUT', '/api/items/9', { name: 'Fork', price: 1 }], ['POST', '/bridge', undefined], ['POST', '/logout-everywhere', undefined]] as const) {
    const anonymous = await app.inject({ method, url, ...(payload !== undefined ? { payload } : {}) })
    t.equal(anonymous.statusCode, 401, `${method} ${url} needs a login`)
    t.same(anonymous.json(), { error: 'Unauthorized', message: 'Log in first' })
  }
  t.equal((await app.inject({ url: '/api/items' })).json().items.length, 3, 'the refused PUT wrote nothing')

  const job = await app.inject({ method: 'POST', url: '/jobs/nightly/run?ms=1', headers: { cookie } })
  t.equal(job.statusCode, 200)
  t.ok(job.json().token > 0, 'fencing token in memory mode')
  const [held, refused] = await Promise.all([
    app.inject({ method: 'POST', url: '/jobs/slow/run?ms=200', headers: { cookie } }),
    new Promise((resolve) => setTimeout(resolve, 50)).then(async () => await app.inject({ method: 'POST', url: '/jobs/slow/run?ms=1', headers: { cookie } }))
  ])
  t.equal(held.statusCode, 200)
  t.equal(refused.statusCode, 409, 'a running job refuses a second run')
  t.ok(refused.headers['retry-after'] !== undefined)

  const notify = await app.inject({ method: 'POST', url: '/notify', payload: { message: 'hi' }, headers: { cookie } })
  t.equal(notify.statusCode, 200)
  t.type(notify.json().receivers, 'number')

  const list = await app.inject({ url: '/api/items' })
  t.equal(list.statusCode, 200)
  t.equal(list.json().items.length, 3)
  const etag = list.headers.etag as string
  t.equal((await app.inject({ url: '/api/items', headers: { 'if-none-match': etag } })).statusCode, 304)
  t.equal((await app.inject({ method: 'PUT', url: '/api/items/4', payload: { name: 'Spoon', price: 2 }, headers: { cookie } })).statusCode, 200)
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

test('GET / lists the routes: HTML for a browser, JSON for curl; the README lists the same', async (t) => {
  const config = loadConfig({ SESSION_SECRET: 'memory-smoke-test-secret-of-32-characters', ADMIN_TOKEN: 'memory-admin-token' })
  const app: FastifyInstance = await buildApp(config, { redis: { mode: 'memory', env: {} }, logger: false })
  t.teardown(async () => await app.close())
  await app.ready()
  const browser = await app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
  t.equal(browser.statusCode, 200)
  t.match(browser.headers['content-type'], /text\/html/)
  t.match(browser.body, /<a href="\/docs">/)
  t.match(browser.body, /<a href="\/admin\/">/)
  const curl = await app.inject({ url: '/', headers: { accept: '*/*' } })
  t.match(curl.headers['content-type'], /application\/json/)
  const body = curl.json() as { docs: string, admin: string, routes: Array<{ method: string, path: string, access: string }> }
  t.match(body, { docs: '/docs', admin: '/admin/' })
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  for (const { method, path, access } of ROUTES) {
    t.ok(app.hasRoute({ method, url: path }), `${method} ${path} exists`)
    t.match(browser.body, `<td>${method}</td>`, 'listed on the page')
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${method} ${path}\``))
    t.ok(row?.includes(` | ${access} | `), `the README lists ${method} ${path} as ${access}`)
  }
  t.same(body.routes.map((r) => `${r.method} ${r.path}`), ROUTES.map((r) => `${r.method} ${r.path}`))
  t.same(ROUTES.filter((r) => r.method !== 'GET' && r.access === 'open').map((r) => r.path), ['/login', '/logout'],
    'only login and logout change something without a login')
})

test('a Secure session cookie on a plain-HTTP server without TRUST_PROXY is warned about at start', async (t) => {
  const cases: Array<[Record<string, string>, boolean]> = [
    [{ COOKIE_SECURE: 'true' }, true],
    [{ NODE_ENV: 'production', REDIS_URL: 'x' }, true],
    [{ COOKIE_SECURE: 'true', TRUST_PROXY: '10.0.0.1' }, false],
    [{ COOKIE_SECURE: 'false' }, false],
    [{}, false]
  ]
  for (const [env, warned] of cases) {
    const lines: string[] = []
    const config = loadConfig({ SESSION_SECRET: 'memory-smoke-test-secret-of-32-characters', ADMIN_TOKEN: 'memory-admin-token', ...env })
    const app = await buildApp({ ...config, production: false }, {
      redis: { mode: 'memory', env: {} },
      logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } }
    })
    await app.close()
    const warning = lines.map((l) => JSON.parse(l) as { level: number, msg: string }).find((l) => l.msg.includes('COOKIE_SECURE'))
    t.equal(warning !== undefined, warned, JSON.stringify(env))
    if (warned) t.equal(warning!.level, 40, 'at warn level')
  }
})
