import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { Cluster } from 'ioredis'
import type { SessionListPage } from '../src/index.js'
import type { Factory } from './contract.js'
import { countKeys, login, me } from './helpers.js'

const ID = 'abcdefghijklmnopqrstuvwxyz012345'
const SECRET_CONTENT = 'TOP-SECRET-SESSION-CONTENT'
const META_KEYS = new Set(['sessionId', 'userId', 'created', 'expires', 'ip', 'userAgent'])
const cookie = (maxAge = 60_000): Record<string, unknown> => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge), path: '/', httpOnly: true })

/** Session metadata: meta, list pages and cursors, glob-safe user ids, index cleanup. */
export function metadataContract (t: Test, make: Factory): void {
  t.test('metadata: meta of one session, without its contents', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const before = Date.now()
    const { sessionId, cookie: c } = await login(app, 'ivan', { 'user-agent': 'phone/1.0' })
    await app.inject({ method: 'POST', url: '/set/cart', payload: { value: SECRET_CONTENT }, cookies: { sessionId: c } })
    t.equal((await me(app, c)).data.cart, SECRET_CONTENT, 'the session holds contents')
    const meta = await app.sessions.meta(sessionId)
    t.match(meta, { sessionId, userId: 'ivan', ip: '127.0.0.1', userAgent: 'phone/1.0' })
    t.ok(meta!.created >= before - 5000 && meta!.created <= Date.now() + 5000, 'created now')
    t.ok(meta!.expires > Date.now() + 80_000_000 && meta!.expires <= Date.now() + 86_400_000 + 5000, 'expires after the default ttl')
    for (const key of Object.keys(meta!)) t.ok(META_KEYS.has(key), `${key} is metadata`)
    await app.sessions.store.set(ID, { cookie: cookie(), secret: SECRET_CONTENT })
    const plain = await app.sessions.meta(ID)
    t.same(Object.keys(plain!).sort(), ['created', 'expires', 'sessionId'], 'no user, no request: only times')
    t.ok(plain!.expires > Date.now() + 50_000 && plain!.expires <= Date.now() + 65_000, 'expiry from the cookie')
    t.notOk(JSON.stringify([meta, plain]).includes(SECRET_CONTENT), 'no contents')
    t.equal(await app.sessions.meta('unknownunknown0123'), null, 'unknown id gives null')
    await app.sessions.revoke(sessionId)
    t.equal(await app.sessions.meta(sessionId), null, 'revoked gives null')
    for (const bad of ['*', '????????', 'abc*defgh', '[a-z]*1234567', 'abcdefg\\*', 'short', 42]) {
      await t.rejects(app.sessions.meta(bad as string), { code: 'FST_REDKIT_SESSION_INVALID_ID' }, `meta(${String(bad)})`)
    }
  })

  t.test('metadata: list pages through every session exactly once', async (t) => {
    const { handle, redis, prefix } = await make(t)
    const { app } = handle
    const ids: string[] = []
    for (let i = 0; i < 300; i++) ids.push(`listed-session-${String(i).padStart(4, '0')}`)
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map(async (id, j) =>
        await app.sessions.store.set(id, { cookie: cookie(), userId: `user-${(i + j) % 7}`, cart: SECRET_CONTENT })))
    }
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: SessionListPage = await app.sessions.list({ cursor, limit: 17 })
      t.ok(page.sessions.length <= 17, 'within the limit')
      t.notOk(JSON.stringify(page).includes(SECRET_CONTENT), 'no contents in a page')
      for (const s of page.sessions) {
        for (const key of Object.keys(s)) if (!META_KEYS.has(key)) t.fail(`${key} is not metadata`)
        seen.push(s.sessionId)
      }
      cursor = page.cursor
      pages++
    } while (cursor !== null && pages < 200)
    t.equal(seen.length, ids.length, `${seen.length} listed in ${pages} pages`)
    t.same([...seen].sort(), ids, 'every session exactly once')
    t.ok(pages >= Math.ceil(ids.length / 17), 'paged')
    if (redis !== undefined && 'nodes' in redis && typeof redis.nodes === 'function') {
      const perMaster = await Promise.all((redis as Cluster).nodes('master').map(async (node) => await countKeys(node, `${prefix}sess:`)))
      t.equal(perMaster.length, 3)
      t.ok(perMaster.every((n) => n > 0), `sessions live on every master (${perMaster.join(', ')})`)
    }
    const sample = (await app.sessions.list()).sessions[0]!
    t.match(sample, { sessionId: String, userId: /^user-\d$/, created: Number, expires: Number })
    t.equal((await app.sessions.list({ limit: 1000 })).sessions.length, 300, 'limit 1000 in one page')
    t.same(await app.sessions.count(), { sessions: 300, users: 7 })
  })

  t.test('metadata: limits and cursors are checked', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    for (let i = 0; i < 3; i++) await login(app, 'judy')
    for (const limit of [0, -1, 1001, 1.5, Number.NaN, '10']) {
      await t.rejects(app.sessions.list({ limit: limit as number }), { code: 'FST_REDKIT_SESSION_INVALID_LIMIT' }, `limit ${String(limit)}`)
    }
    const one = await app.sessions.list({ limit: 1 })
    t.equal(one.sessions.length, 1)
    t.type(one.cursor, 'string')
    const b64 = (text: string): string => Buffer.from(text).toString('base64url')
    const forged = [
      '', '*', '?', '[a-z]', '\\', '%2A', 'not base64 !', b64('{"n":0,"c":"*"}'), b64('{"n":0,"c":"0","p":["*"]}'),
      b64('{"n":0,"c":"0","p":["abcdefgh*"]}'), b64('{"a":"*"}'), b64('{"a":"abc[defgh]"}'), b64('{"a":"abcdefgh?"}'),
      b64('{"n":99,"c":"0"}'), b64('{"n":-1,"c":"0"}'), b64('{"n":0,"c":"0","x":1}'), b64('[1,2]'), b64('null'), b64('"x"'),
      one.cursor!.slice(0, -2) + '!!', 42
    ]
    for (const cursor of forged) {
      await t.rejects(app.sessions.list({ cursor: cursor as string }), { code: 'FST_REDKIT_SESSION_INVALID_CURSOR' }, `cursor ${String(cursor)}`)
    }
    // A cursor of the other backend's shape is refused too.
    const foreign = handle.app.redkit.mode === 'memory' ? b64('{"n":0,"c":"0","p":["abcdefgh1"]}') : b64('{"a":"abcdefgh1"}')
    await t.rejects(app.sessions.list({ cursor: foreign }), { code: 'FST_REDKIT_SESSION_INVALID_CURSOR' })
    const rest = await app.sessions.list({ cursor: one.cursor, limit: 1000 })
    t.equal(rest.sessions.length, 2, 'the cursor resumes after the first page')
    t.equal(rest.cursor, null)
  })

  t.test('metadata: glob characters in user ids match only the literal', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const star = await login(app, 'a*')
    const plain = await login(app, 'ab')
    const question = await login(app, 'a?')
    const bracket = await login(app, '[ab]')
    t.same((await app.sessions.listByUser('a*')).map((s) => s.sessionId), [star.sessionId])
    t.same((await app.sessions.listByUser('[ab]')).map((s) => s.sessionId), [bracket.sessionId])
    t.same(await app.sessions.listByUser('a\\*'), [])
    for (const user of ['*', 'a[bc]', 'a\\*', '?b', 'a?*']) t.equal(await app.sessions.revokeAll(user), 0, `revokeAll(${user}) touches nobody`)
    for (const { sessionId } of [star, plain, question, bracket]) t.ok(await app.sessions.meta(sessionId), 'session survives')
    t.same(await app.sessions.count(), { sessions: 4, users: 4 })
    t.match(await app.sessions.meta(star.sessionId), { userId: 'a*' })
  })

  t.test('metadata: cleanup drops index entries of ended sessions', async (t) => {
    const { handle, redis, prefix } = await make(t, { ttl: 1000 })
    const store = handle.app.sessions.store
    await store.set('keep-session-0001', { cookie: cookie(), userId: 'carol' })
    await store.set('lost-session-0001', { cookie: { originalMaxAge: null, expires: null }, userId: 'carol' })
    await store.set('gone-session-0001', { cookie: cookie(), userId: 'carol' })
    if (redis !== undefined) {
      // A session that vanished without its index entry, as after an eviction.
      await redis.del(`${prefix}sess:{gone-session-0001}`)
    } else {
      await store.set('gone-session-0001', { cookie: { originalMaxAge: null, expires: null }, userId: 'carol' })
    }
    await sleep(1200)
    t.same(await handle.app.sessions.cleanup(), { indexes: 1, checked: 3, removed: 2 })
    t.same(await handle.app.sessions.cleanup(), { indexes: 1, checked: 1, removed: 0 }, 'a second run has nothing left')
    t.same((await handle.app.sessions.listByUser('carol')).map((s) => s.sessionId), ['keep-session-0001'])
    t.same(await handle.app.sessions.count(), { sessions: 1, users: 1 })
  })
}
