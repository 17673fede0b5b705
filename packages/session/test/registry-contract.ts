import { setTimeout as sleep } from 'node:timers/promises'
import { Signer } from '@fastify/cookie'
import type { Test } from 'tap'
import type { SessionStore } from '../src/index.js'
import type { Env, Factory } from './contract.js'
import { countKeys, login, me, SECRET, sessionCookie } from './helpers.js'

const cookie = (maxAge = 60_000): Record<string, unknown> => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) })
const noExpiry = { originalMaxAge: null, expires: null }
const b64 = (text: string): string => Buffer.from(text).toString('base64url')

async function tombstones (env: Env): Promise<number> {
  if (env.redis !== undefined) return await countKeys(env.redis, `${env.prefix}sess-gone:`)
  return (env.handle.app.sessions.store.backend as unknown as { tombstones: Map<string, number> }).tombstones.size
}

/** Sets a field of a stored session the way a request would: load, change, save. */
async function change (store: SessionStore, id: string, field: string, value: unknown): Promise<void> {
  const loaded = await store.get(id)
  if (loaded === null) throw new Error(`no session ${id}`)
  loaded[field] = value
  await store.set(id, loaded)
}

export function registryContract (t: Test, make: Factory): void {
  t.test('a correctly signed cookie with a malformed id gets a fresh session, logged once at debug', async (t) => {
    const { handle } = await make(t)
    const { app, logs } = handle
    const signer = new Signer(SECRET, 'sha256')
    for (const legacy of ['legacy.session.id.from-another-store', 'short', 'x'.repeat(200)]) {
      const signed = signer.sign(legacy)
      const before = logs.records().filter((r) => String(r.msg).includes('malformed session id')).length
      const res = await app.inject({ method: 'GET', url: '/me', cookies: { sessionId: signed } })
      t.equal(res.statusCode, 200, `not locked out (${legacy.slice(0, 12)})`)
      t.same(res.json().data, {}, 'a fresh, empty session')
      const logged = logs.records().filter((r) => String(r.msg).includes('malformed session id'))
      t.equal(logged.length - before, 1, 'one log line')
      t.ok(logged.every((r) => r.level === 20), 'at debug level')
      t.notOk(logs.lines.some((line) => line.includes(legacy)), 'the id itself is not logged')
      const cleared = res.cookies.find((c) => c.name === 'sessionId')
      t.ok(cleared !== undefined && cleared.value === '', 'the stale cookie is cleared')
      const fresh = await app.inject({ method: 'POST', url: '/login', payload: { user: 'migrated' }, cookies: { sessionId: signed } })
      t.equal(fresh.statusCode, 200, 'login works with the stale cookie still sent')
      t.equal((await me(app, sessionCookie(fresh))).data.userId, 'migrated')
    }
  })

  t.test('a login with no earlier session writes no tombstone; destroying a stored session does', async (t) => {
    const env = await make(t)
    const { app } = env.handle
    const first = await login(app, 'newcomer')
    await login(app, 'another-newcomer')
    t.equal(await tombstones(env), 0, 'regenerating a session never stored leaves nothing behind')
    const res = await app.inject({ method: 'POST', url: '/regenerate', cookies: { sessionId: first.cookie } })
    t.equal(res.statusCode, 200)
    t.equal(await tombstones(env), 1, 'regenerating a stored session buries its old id')
    await app.inject({ method: 'POST', url: '/logout', cookies: { sessionId: sessionCookie(res) } })
    t.equal(await tombstones(env), 2, 'a logout buries the id')
    await app.sessions.store.destroy('never-stored-session-1')
    t.equal(await tombstones(env), 2, 'destroying an unknown id writes nothing')
    const store = app.sessions.store
    await store.set(first.sessionId, { cookie: cookie(), late: true })
    t.equal(await store.get(first.sessionId), null, 'a late full write of the regenerated id is still blocked')
  })

  t.test('counts follow saves, destroys, user changes and expiry, with one bounded call', async (t) => {
    const { handle } = await make(t, { ttl: 1000 })
    const { app } = handle
    const store = app.sessions.store
    const memory = app.redkit.mode === 'memory'
    if (memory) {
      // Counting must not walk the sessions: make any walk of them fail.
      const sessions = (store.backend as unknown as { sessions: Map<string, unknown> }).sessions
      for (const name of ['values', 'keys', 'entries', 'forEach', Symbol.iterator] as const) {
        Object.defineProperty(sessions, name, { value: () => { throw new Error('count walked the sessions') }, configurable: true })
      }
      t.teardown(() => { for (const name of ['values', 'keys', 'entries', 'forEach', Symbol.iterator]) Reflect.deleteProperty(sessions, name) })
    }
    const counted = async (): Promise<{ sessions: number, users: number }> => {
      const before = app.redkit.stats().commands
      const counts = await app.sessions.count()
      if (!memory) t.equal(app.redkit.stats().commands - before, 1, 'one script call')
      return counts
    }
    t.same(await counted(), { sessions: 0, users: 0 })
    await store.set('count-long-user1', { cookie: cookie(), userId: 'u1' })
    await store.set('count-short-user1', { cookie: noExpiry, userId: 'u1' })
    await store.set('count-short-user2', { cookie: noExpiry, userId: 'u2' })
    await store.set('count-long-nouser', { cookie: cookie() })
    t.same(await counted(), { sessions: 4, users: 2 })
    await sleep(1300)
    t.same(await counted(), { sessions: 2, users: 1 }, 'expired sessions and users leave the counts with no write in between')
    await store.destroy('count-long-user1')
    t.same(await counted(), { sessions: 1, users: 0 }, 'the last session of a user ends: the user is no longer counted')
    await change(store, 'count-long-nouser', 'userId', 'u3')
    t.same(await counted(), { sessions: 1, users: 1 }, 'a session gains a user')
    await change(store, 'count-long-nouser', 'userId', 'u4')
    t.same(await counted(), { sessions: 1, users: 1 }, 'a session moves to another user')
    t.same(await app.sessions.listByUser('u3'), [])
    await change(store, 'count-long-nouser', 'userId', undefined)
    t.same(await counted(), { sessions: 1, users: 0 }, 'a session loses its user')
    await store.touch('count-long-nouser', { cookie: cookie(120_000) })
    t.same(await counted(), { sessions: 1, users: 0 }, 'a touch counts nothing twice')
    await login(app, 'u5')
    await login(app, 'u5')
    t.same(await counted(), { sessions: 3, users: 1 }, 'sessions created over HTTP')
    await store.clear()
    t.same(await counted(), { sessions: 0, users: 0 }, 'clear')
  })

  t.test('list cursors stay small at any limit; an oversized cursor is refused with a coded error', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const store = app.sessions.store
    const ids = Array.from({ length: 300 }, (_, i) => `cursor-session-${String(i).padStart(4, '0')}-${'x'.repeat(100)}`)
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map(async (id) => { await store.set(id, { cookie: cookie(), userId: 'c' }) }))
    }
    let longest = 0
    for (const limit of [1, 2, 7, 100, 299]) {
      let cursor: string | null = null
      for (let page = 0; page < 3; page++) {
        const got: { sessions: unknown[], cursor: string | null } = await app.sessions.list({ cursor, limit })
        t.equal(got.sessions.length, Math.min(limit, ids.length - page * limit), `limit ${limit}, page ${page + 1}: full`)
        cursor = got.cursor
        if (cursor === null) break
        longest = Math.max(longest, cursor.length)
      }
    }
    t.ok(longest > 0 && longest < 300, `cursors stay short (${longest} characters)`)
    const seen = new Set<string>()
    let cursor: string | null = null
    let pages = 0
    do {
      const got: { sessions: Array<{ sessionId: string }>, cursor: string | null } = await app.sessions.list({ cursor, limit: 1 })
      for (const s of got.sessions) seen.add(s.sessionId)
      cursor = got.cursor
      pages++
    } while (cursor !== null && pages < 400)
    t.equal(seen.size, 300, 'limit 1 still lists every session')
    const first = await app.sessions.list({ limit: 1 })
    const wire = Buffer.from(first.cursor!, 'base64url').toString()
    const padded = b64(wire.slice(0, -1) + ' '.repeat(1000) + '}')
    await t.rejects(app.sessions.list({ cursor: padded }), { code: 'FST_REDKIT_SESSION_INVALID_CURSOR' }, 'a padded cursor over the bound')
    await t.rejects(app.sessions.list({ cursor: 'A'.repeat(200_000) }), { code: 'FST_REDKIT_SESSION_INVALID_CURSOR' }, 'a huge cursor')
    await t.resolves(app.sessions.list({ cursor: b64(wire.slice(0, -1) + ' '.repeat(10) + '}') }), 'a little whitespace under the bound is fine')
  })
}
