import { test, type Test } from 'tap'
import { startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import { buildApp, gate, keysWithoutTtl, login, me, type AppHandle } from './helpers.js'
import type { SessionListPage } from '../src/index.js'

test('two instances on one Redis', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  const prefixes: string[] = []
  const pair = async (t: Test): Promise<AppHandle[]> => {
    const prefix = uniquePrefix('sess-multi')
    prefixes.push(prefix)
    const core = { url: server.url, keyPrefix: prefix }
    return [await buildApp(t, core), await buildApp(t, core)]
  }

  t.test('login on A is seen on B, logout on B is seen by A, revokeAll on A kills sessions used on B', async (t) => {
    const [a, b] = await pair(t)
    const { cookie } = await login(a!.app, 'ann')
    t.equal((await me(b!.app, cookie)).data.userId, 'ann', 'B sees the login made on A')
    await b!.app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: cookie } })
    t.same((await me(a!.app, cookie)).data, {}, 'A sees the logout made on B')

    const onB1 = await login(b!.app, 'ann')
    const onB2 = await login(b!.app, 'ann')
    const onA = await login(a!.app, 'ann')
    await b!.app.inject({ method: 'POST', url: '/set/cart', payload: { value: [1] }, cookies: { sessionId: onB1.cookie } })
    t.equal(await a!.app.sessions.revokeAll('ann', { except: onA.sessionId }), 2)
    t.same((await me(b!.app, onB1.cookie)).data, {}, 'session used on B is dead')
    t.same((await me(b!.app, onB2.cookie)).data, {})
    t.equal((await me(b!.app, onA.cookie)).data.userId, 'ann', 'the excepted session lives')
    t.same((await b!.app.sessions.listByUser('ann')).map((s) => s.sessionId), [onA.sessionId])
  })

  t.test('200 concurrent requests over 2 instances, each setting its own field: all 200 kept', async (t) => {
    const [a, b] = await pair(t)
    const { cookie, sessionId } = await login(a!.app, 'ben')
    const responses = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const app = i % 2 === 0 ? a!.app : b!.app
      return await app.inject({ method: 'POST', url: `/set/f${i}`, payload: { value: i }, cookies: { sessionId: cookie } })
    }))
    t.equal(responses.filter((r) => r.statusCode === 200).length, 200)
    const data = await a!.app.sessions.store.get(sessionId)
    const missing = Array.from({ length: 200 }, (_, i) => i).filter((i) => data?.[`f${i}`] !== i)
    t.same(missing, [], 'no field lost')
    t.equal(data?.userId, 'ben')
  })

  t.test('logout on B during a slow request on A: the session stays gone', async (t) => {
    const [a, b] = await pair(t)
    const { cookie, sessionId } = await login(a!.app, 'cleo')
    const g = gate()
    a!.gates.set('slow', g)
    const slow = a!.app.inject({ method: 'POST', url: '/slow/slow/late', cookies: { sessionId: cookie } })
    await g.reached
    await b!.app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: cookie } })
    g.open()
    t.equal((await slow).statusCode, 200)
    t.equal(await a!.app.sessions.store.get(sessionId), null)
    t.same((await me(b!.app, cookie)).data, {})
    t.same((await a!.app.sessions.listByUser('cleo')), [])
  })

  t.test('regenerate on A leaves the old id dead on B, even for a request in flight on B', async (t) => {
    const [a, b] = await pair(t)
    const { cookie } = await login(a!.app, 'dora')
    const g = gate()
    b!.gates.set('inflight', g)
    const inflight = b!.app.inject({ method: 'POST', url: '/slow/inflight/late', cookies: { sessionId: cookie } })
    await g.reached
    const res = await a!.app.inject({ method: 'POST', url: '/regenerate', cookies: { sessionId: cookie } })
    const { old } = res.json<{ old: string }>()
    g.open()
    await inflight
    t.equal(await b!.app.sessions.store.get(old), null, 'old id dead on B')
    t.same((await me(b!.app, cookie)).data, {})
  })

  t.test('100 concurrent redemptions of one token over 2 instances: exactly 1 succeeds', async (t) => {
    const [a, b] = await pair(t)
    const token = await a!.app.bridgeTokens.issue({ user: 'eve' })
    const results = await Promise.all(Array.from({ length: 100 }, async (_, i) =>
      await (i % 2 === 0 ? a!.app : b!.app).bridgeTokens.redeem(token)))
    t.equal(results.filter((r) => r !== null).length, 1)
    t.same(results.find((r) => r !== null), { user: 'eve' })
  })

  t.test('a listing started on A continues on B with its cursor', async (t) => {
    const [a, b] = await pair(t)
    const ids = new Set<string>()
    for (let i = 0; i < 30; i++) ids.add((await login(i % 2 === 0 ? a!.app : b!.app, `lou-${i % 3}`)).sessionId)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: SessionListPage = await (pages % 2 === 0 ? a! : b!).app.sessions.list({ cursor, limit: 4 })
      seen.push(...page.sessions.map((s) => s.sessionId))
      cursor = page.cursor
      pages++
    } while (cursor !== null && pages < 50)
    t.equal(seen.length, 30, `${pages} pages alternating between instances`)
    t.same(new Set(seen), ids, 'every session once')
  })

  t.test('zero keys without a TTL under the test prefixes', async (t) => {
    for (const prefix of prefixes) t.same(await keysWithoutTtl(admin, prefix), [], prefix)
  })
})

test('bridge tokens without GETDEL (Redis before 6.2) use the script', async (t) => {
  const server = await startRedis({ config: ['rename-command GETDEL ""'] })
  t.teardown(server.stop)
  const core = { url: server.url, keyPrefix: uniquePrefix('sess-getdel') }
  const a = await buildApp(t, core)
  const b = await buildApp(t, core)
  const token = await a.app.bridgeTokens.issue({ n: 1 })
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await (i % 2 === 0 ? a.app : b.app).bridgeTokens.redeem(token)))
  t.equal(results.filter((r) => r !== null).length, 1)
  t.equal(await a.app.bridgeTokens.redeem(await a.app.bridgeTokens.issue('x')), 'x')
})

test('a malformed token is refused without a Redis command', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('sess-malformed') })
  const before = app.redkit.stats().commands
  for (const bad of ['', 'abc', 'A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(42)}=`, 42 as unknown as string]) {
    await t.rejects(app.bridgeTokens.redeem(bad), { code: 'FST_REDKIT_SESSION_INVALID_TOKEN' })
  }
  t.equal(app.redkit.stats().commands, before, 'no command sent')
})

test('a paused Redis fails session requests within the command deadline instead of hanging', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('sess-paused'), commandTimeout: 300, maxRetries: 0 })
  const { cookie } = await login(app, 'ivy')
  await server.pause()
  t.teardown(async () => { await server.resume() })
  const started = Date.now()
  const [read, fresh] = await Promise.all([
    app.inject({ method: 'GET', url: '/me', cookies: { sessionId: cookie } }),
    app.inject({ method: 'POST', url: '/set/a', payload: { value: 1 } })
  ])
  t.equal(read.statusCode, 503)
  t.equal(read.json<{ code: string }>().code, 'FST_REDKIT_COMMAND_TIMEOUT')
  t.equal(fresh.statusCode, 503, 'saving a new session fails too')
  t.ok(Date.now() - started < 5000, 'answered within the deadline (generous margin)')
  await server.resume()
  // Core fails fast until its own PING is answered, a round trip after SIGCONT.
  await waitFor(async () => (await me(app, cookie)).data?.userId === 'ivy', 2000, 'sessions to work again after resume')
  t.pass('works again after resume')
})
