import { test } from 'tap'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { AUTH, build, login, loginCookie, TOKEN } from './helpers.js'

const memory = { mode: 'memory' as const, env: {} }

/** The dashboard set-up the README recommends: people are let in by their session cookie, Prometheus by the token. */
function cookieAuth (request: FastifyRequest): boolean {
  return (request as unknown as { session?: { get: (k: string) => unknown } }).session?.get('userId') === 'root'
}

async function cookieApp (t: Parameters<typeof build>[0], core: Parameters<typeof build>[1], allowSameSite = false) {
  const { app } = await build(t, core, { packages: ['session'], admin: { token: TOKEN, auth: cookieAuth, allowSameSite } })
  const { cookie } = await loginCookie(app, 'root')
  return { app, cookie }
}

async function cleanup (app: FastifyInstance, headers: Record<string, string>, payload?: string) {
  return await app.inject({ method: 'POST', url: '/admin/sessions/cleanup', headers, ...(payload !== undefined ? { payload } : {}) })
}

for (const [backend, start] of [['memory', async () => memory], ['redis', async (t: Parameters<typeof build>[0]) => {
  const server = await startRedis()
  t.teardown(server.stop)
  return { url: server.url, keyPrefix: uniquePrefix('admin-csrf'), env: {} }
}]] as const) {
  test(`${backend}: a cross-site form post with the admin's cookie is refused`, async (t) => {
    const core = await start(t)
    const { app, cookie } = await cookieApp(t, core)

    // What <form method=post enctype=text/plain action=".../admin/sessions/cleanup"> on another site sends.
    const forged = await cleanup(app, {
      cookie, 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site'
    }, 'x=y')
    t.equal(forged.statusCode, 403)
    t.equal(forged.json().code, 'FST_REDKIT_ADMIN_CROSS_SITE')

    for (const [name, headers] of [
      ['text/plain, no Origin (an old browser)', { cookie, 'content-type': 'text/plain;charset=UTF-8' }],
      ['urlencoded form', { cookie, 'content-type': 'application/x-www-form-urlencoded' }],
      ['multipart form', { cookie, 'content-type': 'multipart/form-data; boundary=x' }],
      ['Sec-Fetch-Site: cross-site, no body', { cookie, 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site: same-site, not allowed by default', { cookie, 'sec-fetch-site': 'same-site' }],
      ['Origin of another host', { cookie, origin: 'http://evil.example' }],
      ['Origin of another port', { cookie, origin: 'http://localhost:8080' }],
      ['Origin: null', { cookie, origin: 'null' }]
    ] as const) {
      const res = await cleanup(app, headers, name.includes('form') || name.includes('text') ? 'a=b' : undefined)
      t.equal(res.statusCode, 403, name)
      t.equal(res.json().code, 'FST_REDKIT_ADMIN_CROSS_SITE', name)
    }

    const victim = await login(app, 'victim')
    const revoke = await app.inject({
      method: 'DELETE', url: `/admin/sessions/${victim}`, headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }
    })
    t.equal(revoke.json().code, 'FST_REDKIT_ADMIN_CROSS_SITE', 'DELETE too')
    t.equal((await app.inject({ url: `/admin/sessions/${victim}`, headers: AUTH })).statusCode, 200, 'the session survives')
    t.equal((await app.inject({ method: 'DELETE', url: '/admin/users/victim/sessions', headers: { cookie, origin: 'null' } })).statusCode, 403)
    t.equal((await app.inject({ method: 'DELETE', url: '/admin/cache?tag=a', headers: { cookie, 'sec-fetch-site': 'cross-site' } })).statusCode, 403)

    // Reads change nothing and cannot be read back across origins: they stay open to the cookie.
    const read = await app.inject({ url: '/admin/sessions/stats', headers: { cookie, 'sec-fetch-site': 'cross-site' } })
    t.equal(read.statusCode, 200, 'GET is not affected')
  })

  test(`${backend}: same-origin dashboard calls and token clients pass`, async (t) => {
    const core = await start(t)
    const { app, cookie } = await cookieApp(t, core)
    t.equal((await cleanup(app, { cookie, 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80' })).statusCode, 200, 'fetch() of the dashboard')
    t.equal((await cleanup(app, { cookie, origin: 'http://localhost:80' })).statusCode, 200, 'Origin equal to Host, no Sec-Fetch-Site')
    t.equal((await cleanup(app, { cookie, 'sec-fetch-site': 'none' })).statusCode, 200, 'user-initiated navigation')
    t.equal((await cleanup(app, { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, '{}')).statusCode, 200,
      'a JSON body')
    t.equal((await cleanup(app, { ...AUTH })).statusCode, 200, 'curl with a Bearer token and no Origin')
    const victim = await login(app, 'victim')
    const revoke = await app.inject({ method: 'DELETE', url: `/admin/sessions/${victim}`, headers: AUTH })
    t.equal(revoke.statusCode, 200, 'curl -X DELETE with the token')
    t.equal((await cleanup(app, {})).statusCode, 401, 'no credentials is still 401')

    const relaxed = await cookieApp(t, core, true)
    t.equal((await cleanup(relaxed.app, { cookie: relaxed.cookie, 'sec-fetch-site': 'same-site' })).statusCode, 200, 'allowSameSite: true')
    t.equal((await cleanup(relaxed.app, { cookie: relaxed.cookie, 'sec-fetch-site': 'cross-site' })).statusCode, 403, 'cross-site still refused')
  })
}

test('allowSameSite must be a boolean', async (t) => {
  const { checkOptions } = await import('../src/options.js')
  t.throws(() => checkOptions({ token: TOKEN, allowSameSite: 'yes' as never }), { code: 'FST_REDKIT_ADMIN_INVALID_OPTION' })
  t.equal(checkOptions({ token: TOKEN }).allowSameSite, false)
})
