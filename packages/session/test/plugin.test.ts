import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { redkit } from '@redkit/core'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { redkitSession, SessionStore, checkPluginOptions } from '../src/index.js'
import { buildApp, login, me, SECRET, sessionCookie } from './helpers.js'

test('invalid options fail at register with a coded error', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['no secret', {}],
    ['short secret', { secret: 'short' }],
    ['empty secret array', { secret: [] }],
    ['short rotated secret', { secret: [SECRET, 'short'] }],
    ['unknown option', { secret: SECRET, colour: 'red' }],
    ['bad ttl', { secret: SECRET, ttl: 0 }],
    ['ttl in seconds', { secret: SECRET, ttl: 900 }],
    ['bad rolling', { secret: SECRET, rolling: 'yes' }],
    ['bad saveUninitialized', { secret: SECRET, saveUninitialized: 1 }],
    ['bad maxSize', { secret: SECRET, maxSize: 'big' }],
    ['bad userField', { secret: SECRET, userField: '' }],
    ['bad cookie option', { secret: SECRET, cookie: { maxAge: -1 } }],
    ['unknown cookie option', { secret: SECRET, cookie: { signed: true } }],
    ['sameSite none without secure', { secret: SECRET, cookie: { sameSite: 'none', secure: false } }],
    ['bad cookie name', { secret: SECRET, cookieName: 'a b' }]
  ]
  for (const [name, options] of cases) {
    const app = Fastify()
    await app.register(redkit, { mode: 'memory', env: {} })
    app.register(redkitSession, options as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_REDKIT_SESSION_INVALID_OPTION' }, name)
    await app.close()
  }
  t.throws(() => new SessionStore(Fastify(), { nope: 1 } as never), { code: 'FST_REDKIT_SESSION_INVALID_OPTION' })
})

test('cookies are secure in production, httpOnly and sameSite lax by default', async (t) => {
  const resolved = checkPluginOptions({ secret: SECRET, production: true })
  t.equal(resolved.cookie.secure, true)
  t.equal(resolved.saveUninitialized, false)
  t.equal(checkPluginOptions({ secret: SECRET, production: false }).cookie.secure, 'auto')
  const { app } = await buildApp(t, { mode: 'memory' }, { production: true })
  const http = await app.inject({ method: 'POST', url: '/login', payload: { user: 'x' } })
  t.equal(http.cookies.length, 0, 'no session cookie over plain http in production')
  const https = await app.inject({ method: 'POST', url: '/login', payload: { user: 'x' }, headers: { 'x-forwarded-proto': 'https' } })
  t.equal(https.statusCode, 200)
  const dev = await buildApp(t, { mode: 'memory' })
  const res = await dev.app.inject({ method: 'POST', url: '/login', payload: { user: 'x' } })
  const cookie = res.cookies.find((c) => c.name === 'sessionId')
  t.equal(cookie?.httpOnly, true)
  t.equal(String(cookie?.sameSite).toLowerCase(), 'lax')
})

test('an array of secrets rotates: old cookies still work and are re-signed', async (t) => {
  const prefix = uniquePrefix('sess-rotate')
  const server = await startRedis()
  t.teardown(server.stop)
  const OLD = 'the-old-secret-that-is-long-enough-xxxxxxxx'
  const before = await buildApp(t, { url: server.url, keyPrefix: prefix }, { secret: OLD })
  const { cookie } = await login(before.app, 'rita')
  const after = await buildApp(t, { url: server.url, keyPrefix: prefix }, { secret: [SECRET, OLD] })
  const res = await after.app.inject({ method: 'GET', url: '/me', cookies: { sessionId: cookie } })
  t.equal(res.json<{ data: { userId: string } }>().data.userId, 'rita', 'old signature accepted')
  const renewed = sessionCookie(res)
  t.not(renewed, cookie, 'cookie re-signed with the new secret')
  const onlyNew = await buildApp(t, { url: server.url, keyPrefix: prefix }, { secret: SECRET })
  t.equal((await me(onlyNew.app, renewed)).data.userId, 'rita')
  t.same((await me(onlyNew.app, cookie)).data, {}, 'a retired secret no longer verifies')
})

test('rolling requests only touch: the expiry moves, no data is rewritten', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const prefix = uniquePrefix('sess-rolling')
  const admin = server.client()
  const { app } = await buildApp(t, { url: server.url, keyPrefix: prefix }, { cookie: { maxAge: 60_000 } })
  const { cookie, sessionId } = await login(app, 'tom')
  const key = `${prefix}sess:{${sessionId}}`
  await admin.pexpire(key, 5000)
  const monitor = await admin.monitor()
  const seen: string[] = []
  monitor.on('monitor', (_time: string, args: string[]) => { seen.push(args.join(' ')) })
  const res = await app.inject({ method: 'GET', url: '/me', cookies: { sessionId: cookie } })
  t.equal(res.cookies.length, 1, 'cookie re-sent')
  await sleep(100)
  monitor.disconnect()
  t.ok(await admin.pttl(key) > 50_000, 'expiry moved to maxAge')
  t.ok(seen.some((line) => /^pexpire\b/i.test(line)), 'commands run by scripts are visible')
  t.notOk(seen.some((line) => /^(hset|hdel|del)\b/i.test(line)), `no data write: ${seen.filter((l) => !/^(evalsha|eval|pttl|hgetall)/i.test(l)).join(' | ')}`)
})

test('users can register @fastify/session themselves with the store', async (t) => {
  const app = Fastify()
  t.teardown(async () => await app.close())
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, store: new SessionStore(app), cookie: { secure: false } })
  app.get('/inc', async (request) => {
    const n = (request.session.get('n') as number | undefined) ?? 0
    request.session.set('n', n + 1)
    return { n: n + 1 }
  })
  const first = await app.inject({ url: '/inc' })
  const cookie = sessionCookie(first)
  const second = await app.inject({ url: '/inc', cookies: { sessionId: cookie } })
  t.same(second.json(), { n: 2 })
})

test('with your own @fastify/session registration, store.adopt keeps field-level merges', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  for (const adopt of [true, false]) {
    const app = Fastify()
    t.teardown(async () => await app.close())
    await app.register(redkit, { url: server.url, keyPrefix: uniquePrefix('sess-own'), env: {} })
    await app.register(fastifyCookie)
    const store = new SessionStore(app)
    await app.register(fastifySession, { secret: SECRET, store, cookie: { secure: false } })
    let adopted = 0
    if (adopt) app.addHook('onRequest', (request, _reply, done) => { if (store.adopt(request.session)) adopted++; done() })
    const g = { open: (): void => {}, wait: Promise.resolve() }
    g.wait = new Promise<void>((resolve) => { g.open = resolve })
    app.post<{ Params: { field: string } }>('/set/:field', async (request) => {
      if (request.params.field === 'slow') await g.wait
      request.session.set(request.params.field, 1)
      return { keys: Object.keys(request.session).filter((k) => k !== 'cookie').sort() }
    })
    const first = await app.inject({ method: 'POST', url: '/set/start' })
    const cookie = sessionCookie(first)
    const slow = app.inject({ method: 'POST', url: '/set/slow', cookies: { sessionId: cookie } })
    await sleep(50)
    await app.inject({ method: 'POST', url: '/set/fast', cookies: { sessionId: cookie } })
    g.open()
    t.same((await slow).json().keys, ['slow', 'start'], 'the handler sees only its own fields')
    const stored = await store.get(cookie.split('.')[0]!)
    if (adopt) {
      t.equal(adopted, 2, 'both loaded sessions were linked')
      t.same(stored, { ...stored, start: 1, slow: 1, fast: 1 }, 'both concurrent fields kept')
    } else {
      t.notOk('fast' in (stored ?? {}), 'without the hook the slower save writes the whole session')
    }
  }
})

test('the cookie signer memoises within a bound and answers like @fastify/cookie', async (t) => {
  const { CachedSigner } = await import('../src/signer.js')
  const { Signer } = await import('@fastify/cookie')
  const cached = new CachedSigner([SECRET, `${SECRET}-old`])
  const plain = new Signer([SECRET, `${SECRET}-old`], 'sha256')
  const ids = Array.from({ length: 12_000 }, (_, i) => `session-id-${i}`)
  t.same(ids.filter((id) => cached.sign(id) !== plain.sign(id)), [], 'every signature matches')
  t.equal(cached.sign(ids[0]!), plain.sign(ids[0]!), 'an evicted entry is signed again, the same')
  t.same(cached.unsign(plain.sign(ids[5]!)), plain.unsign(plain.sign(ids[5]!)))
  const old = new Signer(`${SECRET}-old`, 'sha256').sign('rotated-id')
  t.same(cached.unsign(old), { valid: true, renew: true, value: 'rotated-id' }, 'an older secret verifies and asks to renew')
  t.same(cached.unsign('forged.abc'), { valid: false, renew: false, value: null })
  const tables = cached as unknown as Record<'signed' | 'verified', { current: Map<string, unknown>, previous: Map<string, unknown> }>
  const held = tables.signed.current.size + tables.signed.previous.size
  t.ok(held <= 10_000, `at most two generations are kept (${held})`)
})

test('the cookie signer keeps a signature only once its cookie has come back', async (t) => {
  const { CachedSigner } = await import('../src/signer.js')
  const { Signer } = await import('@fastify/cookie')
  const cached = new CachedSigner([SECRET, `${SECRET}-old`])
  const tables = cached as unknown as Record<'signed', { current: Map<string, unknown>, previous: Map<string, unknown> }>
  const fresh = Array.from({ length: 100 }, (_, i) => cached.sign(`new-session-${i}`))
  t.equal(tables.signed.current.size, 0, 'signing new ids keeps nothing')
  t.same(cached.unsign(fresh[3]!), { valid: true, renew: false, value: 'new-session-3' })
  t.equal(tables.signed.current.get('new-session-3'), fresh[3], 'a returning cookie is its id\'s signature')
  t.equal(cached.sign('new-session-3'), fresh[3])
  const old = new Signer(`${SECRET}-old`, 'sha256').sign('rotated-id')
  cached.unsign(old)
  t.equal(tables.signed.current.get('rotated-id'), undefined, 'a cookie of an older secret is not the current signature')
  t.equal(cached.sign('rotated-id'), new Signer(SECRET, 'sha256').sign('rotated-id'))
})
