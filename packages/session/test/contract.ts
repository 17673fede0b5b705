import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { Cluster, Redis } from 'ioredis'
import type { SessionPluginOptions } from '../src/index.js'
import { gate, keysWithoutTtl, login, me, sessionCookie, type AppHandle } from './helpers.js'
import { metadataContract } from './metadata-contract.js'

export interface Env {
  handle: AppHandle
  /** Admin client for assertions, absent in memory mode. */
  redis?: Redis | Cluster
  prefix: string
}

export type Factory = (t: Test, session?: Partial<SessionPluginOptions>) => Promise<Env>

const ID = 'abcdefghijklmnopqrstuvwxyz012345'
const cookie = (maxAge = 60_000): Record<string, unknown> => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), path: '/', httpOnly: true })

function callback<T> (fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => err != null ? reject(err) : resolve(value)))
}

export function contract (t: Test, make: Factory): void {
  t.test('store: get, set, destroy with callbacks and promises', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    t.equal(await store.get(ID), null, 'unknown id gives null')
    await callback((cb) => store.set(ID, { cookie: cookie(), a: 1, nested: { b: [1, 2] } }, cb))
    const loaded = await callback<Record<string, unknown> | null>((cb) => store.get(ID, cb))
    t.equal(loaded?.a, 1)
    t.same(loaded?.nested, { b: [1, 2] })
    t.equal((loaded?.cookie as { originalMaxAge: number }).originalMaxAge, 60_000)
    t.ok((loaded?.cookie as { expires: Date }).expires.getTime() > Date.now() + 50_000, 'expiry comes from the TTL')
    t.equal(JSON.stringify(loaded), JSON.stringify({ a: 1, nested: { b: [1, 2] }, cookie: loaded?.cookie }), 'the snapshot does not serialise')
    await callback((cb) => store.destroy(ID, cb))
    t.equal(await store.get(ID), null)
  })

  t.test('store: malformed ids read as no session; writes fail with a coded error', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    for (const bad of ['short', 'has space in it 1234', 'x'.repeat(129), 'a*b?c[d]e{f}ghijk']) {
      t.equal(await store.get(bad), null, `get(${bad.slice(0, 20)})`)
      await t.rejects(store.set(bad, { a: 1 }), { code: 'FST_REDKIT_SESSION_INVALID_ID' })
    }
    const err = await callback((cb) => store.destroy('bad id', cb)).catch((e: unknown) => e)
    t.equal((err as { code?: string }).code, 'FST_REDKIT_SESSION_INVALID_ID')
  })

  t.test('store: TTL from the cookie expiry, else from ttl; expired sessions vanish', async (t) => {
    const { handle, redis, prefix } = await make(t, { ttl: 1000 })
    const store = handle.app.sessions.store
    await store.set(ID, { cookie: { originalMaxAge: null, expires: null }, a: 1 })
    const other = 'zyxwvutsrqponmlkjihgfedcba543210'
    await store.set(other, { cookie: cookie(60_000), a: 2 })
    const touched = 'touchedtouchedtouched0123456789'
    await store.set(touched, { cookie: cookie(1000), a: 4 })
    await store.touch(touched, { cookie: cookie(60_000), a: 'ignored' })
    if (redis !== undefined) {
      const ttl = await redis.pttl(`${prefix}sess:{${ID}}`)
      t.ok(ttl > 0 && ttl <= 1000, `ttl option applies without cookie expiry (${ttl})`)
      const long = await redis.pttl(`${prefix}sess:{${other}}`)
      t.ok(long > 50_000 && long <= 60_000, `cookie expiry gives the TTL (${long})`)
    }
    await sleep(1200)
    t.equal(await store.get(ID), null, 'expired')
    t.equal((await store.get(other))?.a, 2)
    t.equal((await store.get(touched))?.a, 4, 'touch moved the expiry, data unchanged')
    await store.set(other, { cookie: { expires: new Date(Date.now() - 1000) }, a: 3 })
    t.equal(await store.get(other), null, 'a cookie already expired deletes the session')
  })

  t.test('store: touch moves the expiry and never rewrites data', async (t) => {
    const { handle, redis, prefix } = await make(t)
    const store = handle.app.sessions.store
    await store.set(ID, { cookie: cookie(10_000), a: 1 })
    await store.touch(ID, { cookie: cookie(120_000), a: 'ignored', b: 2 })
    const loaded = await store.get(ID)
    t.equal(loaded?.a, 1)
    t.notOk('b' in (loaded ?? {}))
    if (redis !== undefined) t.ok(await redis.pttl(`${prefix}sess:{${ID}}`) > 100_000)
    await store.touch('nothere1234567890', { cookie: cookie() })
    t.equal(await store.get('nothere1234567890'), null, 'touch does not create sessions')
  })

  t.test('merge: concurrent saves of different fields keep both; same field is last-write-wins', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    await store.set(ID, { cookie: cookie(), shared: 0, gone: 'x', keep: 'k' })
    const a = await store.get(ID)
    const b = await store.get(ID)
    a!.left = 'A'
    a!.shared = 1
    b!.right = 'B'
    b!.shared = 2
    delete b!.gone
    await Promise.all([store.set(ID, a!), store.set(ID, b!)])
    const merged = await store.get(ID)
    t.equal(merged?.left, 'A')
    t.equal(merged?.right, 'B')
    t.equal(merged?.keep, 'k')
    t.notOk('gone' in merged!, 'a deletion by one writer applies')
    t.equal(merged?.shared, 2, 'same field: last write wins')
    // A nested object mutated in place counts as a change of its top-level field.
    const c = await store.get(ID)
    ;(c!.obj as unknown) = { n: 1 }
    await store.set(ID, c!)
    const d = await store.get(ID)
    ;(d!.obj as { n: number }).n = 2
    await store.set(ID, d!)
    t.same((await store.get(ID))?.obj, { n: 2 })
  })

  t.test('store: concurrent loads of one session share one read, each with its own copy', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const redkit = handle.app.redkit
    await store.set(ID, { cookie: cookie(), n: 1, obj: { a: 1 } })
    const before = redkit.stats().commands
    const loads = await Promise.all(Array.from({ length: 10 }, async () => await store.get(ID)))
    if (redkit.mode === 'redis') t.equal(redkit.stats().commands - before, 1, 'one read for ten loads')
    t.ok(loads.every((loaded) => loaded?.n === 1), 'every load has the data')
    ;(loads[0]!.obj as { a: number }).a = 2
    t.equal((loads[1]!.obj as { a: number }).a, 1, 'a change to one copy is not seen by another')
    loads[0]!.n = 2
    await store.set(ID, loads[0]!)
    t.same((await store.get(ID))?.obj, { a: 2 }, 'a load after a save sees it')
    // A read in flight when a save is sent does not answer loads made after the save completed.
    const early = store.get(ID)
    const loaded = (await store.get(ID))!
    loaded.n = 3
    await Promise.all([early, store.set(ID, loaded)])
    t.equal((await store.get(ID))?.n, 3, 'a load after a completed save never joins an older read')
  })

  t.test('destroy: a slower save of the loaded session does not bring it back', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    await store.set(ID, { cookie: cookie(), a: 1 })
    const slow = await store.get(ID)
    await store.destroy(ID)
    slow!.a = 2
    await store.set(ID, slow!)
    t.equal(await store.get(ID), null, 'loaded copy cannot resurrect')
    await store.set(ID, { cookie: cookie(), a: 3 })
    t.equal(await store.get(ID), null, 'a full write is blocked by the tombstone')
  })

  t.test('admin: all, ids, length, clear', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const ids = ['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2', 'cccccccccccccccc3']
    for (const [i, id] of ids.entries()) await store.set(id, { cookie: cookie(), n: i })
    t.same((await store.ids()).sort(), ids)
    t.equal(await store.length(), 3)
    const all = await store.all()
    t.same(all.map((s) => [s.id, s.n]).sort(), [[ids[0], 0], [ids[1], 1], [ids[2], 2]])
    t.equal(await callback<number>((cb) => store.length(cb)), 3)
    await store.clear()
    t.equal(await store.length(), 0)
    t.equal(await store.get(ids[0]!), null)
  })

  t.test('maxSize: too large sessions fail with a coded error and write nothing', async (t) => {
    const { handle } = await make(t, { maxSize: 1024 })
    const store = handle.app.sessions.store
    await store.set(ID, { cookie: cookie(), a: 'small' })
    const loaded = await store.get(ID)
    loaded!.big = 'x'.repeat(2000)
    loaded!.a = 'changed'
    await t.rejects(store.set(ID, loaded!), { code: 'FST_REDKIT_SESSION_TOO_LARGE' })
    t.equal((await store.get(ID))?.a, 'small', 'nothing written')
    await t.rejects(store.set(ID, { cookie: cookie(), u: 'é'.repeat(600) }), { code: 'FST_REDKIT_SESSION_TOO_LARGE' }, 'counted in UTF-8 bytes')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await t.rejects(store.set(ID, { cookie: cookie(), cyclic }), { code: 'FST_REDKIT_SESSION_NOT_SERIALIZABLE' })
  })

  t.test('plugin: login, read, field merge over HTTP, logout', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const anonymous = await app.inject({ method: 'GET', url: '/me' })
    t.equal(anonymous.cookies.length, 0, 'saveUninitialized is false')
    const { cookie: c } = await login(app, 'alice')
    t.equal((await me(app, c)).data.userId, 'alice')
    await Promise.all([
      app.inject({ method: 'POST', url: '/set/x', payload: { value: 1 }, cookies: { sessionId: c } }),
      app.inject({ method: 'POST', url: '/set/y', payload: { value: 2 }, cookies: { sessionId: c } })
    ])
    const data = (await me(app, c)).data
    t.same([data.x, data.y, data.userId], [1, 2, 'alice'])
    t.same(Object.keys(data).sort(), ['userId', 'x', 'y'], 'the session holds only its own fields')
    await app.inject({ method: 'POST', url: '/del/x', cookies: { sessionId: c } })
    t.notOk('x' in (await me(app, c)).data, 'field removed')
    await app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: c } })
    t.notOk('userId' in (await me(app, c)).data)
  })

  t.test('plugin: logout during a slow request, the session stays gone', async (t) => {
    const { handle } = await make(t)
    const { app, gates } = handle
    const { cookie: c, sessionId } = await login(app, 'bob')
    const g = gate()
    gates.set('g1', g)
    const slow = app.inject({ method: 'POST', url: '/slow/g1/late', cookies: { sessionId: c } })
    await g.reached
    await app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: c } })
    g.open()
    await slow
    t.equal(await app.sessions.store.get(sessionId), null)
    t.same((await me(app, c)).data, {})
  })

  t.test('plugin: regenerate leaves the old id dead', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const { cookie: c, sessionId } = await login(app, 'carol')
    const res = await app.inject({ method: 'POST', url: '/regenerate', cookies: { sessionId: c } })
    const { old, now } = res.json<{ old: string, now: string }>()
    t.equal(old, sessionId)
    t.not(now, old)
    t.equal(await app.sessions.store.get(old), null)
    t.equal((await me(app, c)).data.userId, undefined, 'old cookie gives nothing')
    t.equal((await me(app, sessionCookie(res))).data.userId, 'carol', 'kept field moved over')
  })

  t.test('users: listByUser, revoke, revokeAll with except', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const s1 = await login(app, 'dave', { 'user-agent': 'phone' })
    const s2 = await login(app, 'dave', { 'user-agent': 'laptop' })
    const s3 = await login(app, 'dave', { 'user-agent': 'tablet' })
    await login(app, 'erin')
    const list = await app.sessions.listByUser('dave')
    t.same(list.map((s) => s.sessionId).sort(), [s1.sessionId, s2.sessionId, s3.sessionId].sort())
    const phone = list.find((s) => s.sessionId === s1.sessionId)!
    t.equal(phone.userAgent, 'phone')
    t.equal(phone.ip, '127.0.0.1')
    t.ok(phone.created > Date.now() - 60_000 && phone.created <= Date.now() + 1000)
    t.ok(phone.expires > Date.now())
    await app.sessions.revoke(s1.sessionId)
    t.same((await app.sessions.listByUser('dave')).map((s) => s.sessionId).sort(), [s2.sessionId, s3.sessionId].sort())
    t.equal((await me(app, s1.cookie)).data.userId, undefined)
    t.equal(await app.sessions.revokeAll('dave', { except: s3.sessionId }), 1)
    t.equal((await me(app, s2.cookie)).data.userId, undefined)
    t.equal((await me(app, s3.cookie)).data.userId, 'dave')
    t.same((await app.sessions.listByUser('dave')).map((s) => s.sessionId), [s3.sessionId])
    t.equal((await app.sessions.listByUser('erin')).length, 1, 'other users untouched')
    t.same(await app.sessions.listByUser('nobody{*}'), [], 'odd user ids are literal')
    await t.rejects(app.sessions.listByUser(''), { code: 'FST_REDKIT_SESSION_INVALID_USER_ID' })
    // Changing the user moves the session between indexes.
    await app.inject({ method: 'POST', url: '/set/userId', payload: { value: 'frank' }, cookies: { sessionId: s3.cookie } })
    t.same(await app.sessions.listByUser('dave'), [])
    t.equal((await app.sessions.listByUser('frank'))[0]?.sessionId, s3.sessionId)
  })

  t.test('bridge tokens: issue, redeem once, expire, refuse malformed', async (t) => {
    const { handle } = await make(t)
    const { bridgeTokens } = handle.app
    const token = await bridgeTokens.issue({ user: 'gina', n: 1 })
    t.match(token, /^[A-Za-z0-9_-]{43}$/)
    t.same(await bridgeTokens.redeem(token), { user: 'gina', n: 1 })
    t.equal(await bridgeTokens.redeem(token), null, 'second redeem fails')
    const short = await bridgeTokens.issue('x', { ttl: 1 })
    await sleep(1100)
    t.equal(await bridgeTokens.redeem(short), null, 'expired')
    await t.rejects(bridgeTokens.redeem('not-a-token'), { code: 'FST_REDKIT_SESSION_INVALID_TOKEN' })
    await t.rejects(bridgeTokens.redeem(token + '*'), { code: 'FST_REDKIT_SESSION_INVALID_TOKEN' })
    await t.rejects(bridgeTokens.issue('x'.repeat(70_000)), { code: 'FST_REDKIT_SESSION_PAYLOAD_TOO_LARGE' })
    await t.rejects(bridgeTokens.issue(undefined), { code: 'FST_REDKIT_SESSION_INVALID_PAYLOAD' })
    await t.rejects(bridgeTokens.issue('x', { ttl: 0 }), { code: 'FST_REDKIT_SESSION_INVALID_TTL' })
    const many = await bridgeTokens.issue({ once: true })
    const results = await Promise.all(Array.from({ length: 20 }, async () => await bridgeTokens.redeem(many)))
    t.equal(results.filter((r) => r !== null).length, 1, 'exactly one concurrent redeem wins')
  })

  metadataContract(t, make)

  t.test('every key has a TTL', async (t) => {
    const { handle, redis, prefix } = await make(t)
    const { app } = handle
    const { cookie: c } = await login(app, 'hank')
    await app.inject({ method: 'POST', url: '/set/a', payload: { value: 1 }, cookies: { sessionId: c } })
    await app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: c } })
    await login(app, 'hank')
    await app.bridgeTokens.issue('p')
    if (redis === undefined) {
      t.pass('memory backend expires every entry')
      return
    }
    t.same(await keysWithoutTtl(redis, prefix), [])
  })
}
