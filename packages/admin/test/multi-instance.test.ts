import t from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { AUTH, build, loginCookie } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)

t.test('a session revoked through the admin of one instance is gone on the others', async (t) => {
  const core = { url: server.url, keyPrefix: uniquePrefix('admin-multi'), env: {} }
  const [a, b, c] = await Promise.all([build(t, core), build(t, core), build(t, core)])
  const { sessionId, cookie } = await loginCookie(b!.app, 'grace')
  const other = await loginCookie(c!.app, 'heidi')
  t.same((await c!.app.inject({ url: '/whoami', headers: { cookie } })).json(), { user: 'grace' }, 'the session works everywhere')

  const page = (await a!.app.inject({ url: '/admin/sessions', headers: AUTH })).json() as { sessions: Array<{ sessionId: string }> }
  t.same(page.sessions.map((s) => s.sessionId).sort(), [sessionId, other.sessionId].sort(), 'instance A lists sessions made on B and C')

  const res = await a!.app.inject({ method: 'DELETE', url: `/admin/sessions/${sessionId}`, headers: AUTH })
  t.equal(res.statusCode, 200)
  for (const { app } of [a!, b!, c!]) {
    t.same((await app.inject({ url: '/whoami', headers: { cookie } })).json(), { user: null }, 'revoked on every instance')
  }
  t.same((await b!.app.inject({ url: '/whoami', headers: { cookie: other.cookie } })).json(), { user: 'heidi' }, 'other sessions untouched')

  const all = await c!.app.inject({ method: 'DELETE', url: '/admin/users/heidi/sessions', headers: AUTH })
  t.same(all.json(), { userId: 'heidi', revoked: 1 })
  t.same((await a!.app.inject({ url: '/whoami', headers: { cookie: other.cookie } })).json(), { user: null })
})
