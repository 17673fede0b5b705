import { deepStrictEqual } from 'node:assert/strict'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import type { SessionStore } from '../src/index.js'
import type { Factory } from './contract.js'
import { sessionCookie } from './helpers.js'

/**
 * The store contract @fastify/session documents (get/set/destroy with a
 * callback, optional touch; the session a get returns is what set stored)
 * plus this store's promise forms and express-session's optional methods.
 */

const A = 'contract-session-0001'
const B = 'contract-session-0002'

/** Calls a callback-form method and records every call of its callback. */
async function viaCallback (fn: (cb: (err: unknown, value?: unknown) => void) => void): Promise<unknown[][]> {
  const calls: unknown[][] = []
  await new Promise<void>((resolve) => {
    fn((...args) => {
      calls.push(args)
      resolve()
    })
  })
  await new Promise((resolve) => setImmediate(resolve))
  return calls
}

/** JSON with keys sorted: a hash keeps no key order, so only the content is compared. */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
    : v)
}

function ownKeys (value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Reflect.ownKeys(value).map(String).sort() : []
}

function sameExactly (t: Test, actual: unknown, expected: unknown, message: string): void {
  t.strictSame(actual, expected, message)
  t.doesNotThrow(() => deepStrictEqual(actual, expected), `${message} (node deepStrictEqual)`)
  t.equal(canonical(actual), canonical(expected), `${message} (JSON)`)
  t.same(ownKeys(actual), ownKeys(expected), `${message} (own keys, symbols included)`)
}

export function storeContract (t: Test, make: Factory): void {
  t.test('store contract: get returns exactly what set stored', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const plain = { foo: 'bar' }
    await store.set(A, plain)
    sameExactly(t, await store.get(A), plain, 'a session without a cookie')
    const expires = new Date(Date.now() + 60_000).toISOString()
    const rich = { cookie: { expires, path: '/', httpOnly: true }, n: 1, zero: 0, no: false, nil: null, text: 'é✓', list: [1, 'two', { three: 3 }], nested: { a: { b: [] } } }
    await store.set(B, rich)
    const loaded = await store.get(B)
    sameExactly(t, loaded, rich, 'a session with a cookie and every JSON type')
    // Saving the loaded object back and loading again changes nothing.
    await store.set(B, loaded!)
    sameExactly(t, await store.get(B), rich, 'after saving the loaded object back')
    const viaCb = await viaCallback((cb) => store.get(B, cb))
    t.equal(viaCb.length, 1, 'the callback is called once')
    t.equal(viaCb[0]![0], null, 'no error')
    sameExactly(t, viaCb[0]![1], rich, 'callback form')
  })

  t.test('store contract: callback forms call back once, without an error', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const session = { cookie: { expires: new Date(Date.now() + 60_000).toISOString() }, n: 1 }
    for (const [name, fn] of [
      ['set', (cb: (err: unknown) => void) => store.set(A, session, cb)],
      ['touch', (cb: (err: unknown) => void) => store.touch(A, session, cb)],
      ['destroy', (cb: (err: unknown) => void) => store.destroy(A, cb)],
      ['destroy of an unknown id', (cb: (err: unknown) => void) => store.destroy('never-stored-0001', cb)],
      ['touch of an unknown id', (cb: (err: unknown) => void) => store.touch('never-stored-0002', session, cb)]
    ] as const) {
      const calls = await viaCallback(fn)
      t.equal(calls.length, 1, `${name}: one call`)
      t.notOk(calls[0]![0], `${name}: no error`)
    }
    const unknown = await viaCallback((cb) => store.get('never-stored-0003', cb))
    t.same(unknown, [[null, null]], 'get of an unknown id: no error, no session')
    t.equal(await store.get('never-stored-0002'), null, 'touch does not create a session')
    t.equal(await store.get(A), null, 'destroy removed it')
    // promisify, as connect-style callers wrap stores.
    await promisify(store.set.bind(store) as (id: string, s: object, cb: (err: unknown) => void) => void)(B, { x: 1 })
    t.same(await promisify(store.get.bind(store) as (id: string, cb: (err: unknown, v?: unknown) => void) => void)(B), { x: 1 })
  })

  t.test('store contract: promise forms', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    t.equal(await store.set(A, { n: 1 }), undefined)
    t.same(await store.get(A), { n: 1 })
    t.equal(await store.touch(A, { n: 'ignored', cookie: { expires: new Date(Date.now() + 90_000).toISOString() } }), undefined)
    t.same(await store.get(A), { n: 1 }, 'touch does not write data')
    t.equal(await store.destroy(A), undefined)
    t.equal(await store.get(A), null)
    t.equal(await store.get('never-stored-0004'), null, 'unknown id')
    await t.resolves(store.destroy('never-stored-0004'), 'destroying an unknown id is no error')
  })

  t.test('store contract: lifecycle as connect-redis checks it', async (t) => {
    const { handle, redis, prefix } = await make(t)
    const store: SessionStore = handle.app.sessions.store
    await store.clear()
    const sess = { foo: 'bar' }
    await store.set('lifecycle-123', sess)
    t.same(await store.get('lifecycle-123'), sess, 'store.get')
    const expires = new Date(Date.now() + 60_000).toISOString()
    await store.set('lifecycle-456', { cookie: { expires } })
    const expires2 = new Date(Date.now() + 90_000).toISOString()
    if (redis !== undefined) {
      t.ok(await redis.pttl(`${prefix}sess:{lifecycle-123}`) >= 86_399_000, 'one day ttl')
      t.ok(await redis.pttl(`${prefix}sess:{lifecycle-456}`) <= 60_000, 'ttl from the cookie expiry')
      await store.touch('lifecycle-456', { cookie: { expires: expires2 } })
      t.ok(await redis.pttl(`${prefix}sess:{lifecycle-456}`) > 60_000, 'touch moved the ttl')
    } else {
      await store.touch('lifecycle-456', { cookie: { expires: expires2 } })
    }
    t.equal(await store.length(), 2, 'length')
    t.same((await store.ids()).sort(), ['lifecycle-123', 'lifecycle-456'], 'ids')
    const all = (await store.all()).sort((a, b) => String(a.id).localeCompare(String(b.id)))
    t.strictSame(all, [{ id: 'lifecycle-123', foo: 'bar' }, { id: 'lifecycle-456', cookie: { expires } }], 'all')
    await store.destroy('lifecycle-456')
    t.equal(await store.length(), 1, 'one remains')
    await store.clear()
    t.equal(await store.length(), 0, 'none remain')
    for (let i = 0; i < 200; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) =>
        await store.set(`lifecycle-bulk-${i + j}`, { cookie: { expires: new Date(Date.now() + 60_000).toISOString() } })))
    }
    t.equal(await store.length(), 200, 'bulk count')
    await store.clear()
    t.equal(await store.length(), 0, 'bulk clear')
    await store.set('lifecycle-789', { cookie: { expires: new Date(Date.now() + 90_000).toISOString() } })
    t.equal(await store.length(), 1)
    await store.set('lifecycle-789', { cookie: { expires: new Date(Date.now() - 90_000).toISOString() } })
    t.equal(await store.length(), 0, 'a save with an expiry in the past removes the session')
  })

  t.test('store contract: after a request through @fastify/session, get returns what it stored', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    const store = app.sessions.store
    const login = await app.inject({ method: 'POST', url: '/login', payload: { user: 'round-trip' } })
    const c = sessionCookie(login)
    await app.inject({ method: 'POST', url: '/set/cart', payload: { value: [{ sku: 'a', n: 2 }] }, cookies: { sessionId: c } })
    const seen = await app.inject({ method: 'GET', url: '/me', cookies: { sessionId: c } })
    const { sessionId, data } = seen.json<{ sessionId: string, data: Record<string, unknown> }>()
    const stored = await store.get(sessionId)
    // What the handler saw, as JSON, plus the cookie as @fastify/session serialises it.
    const cookie = JSON.parse(JSON.stringify(stored?.cookie ?? null)) as Record<string, unknown>
    t.match(cookie, { path: '/', httpOnly: true, sameSite: 'lax' }, 'the cookie as stored')
    sameExactly(t, stored, { cookie, ...data }, 'store.get after the requests')
    t.same(Object.keys(data).sort(), ['cart', 'userId'], 'handlers see only their own fields')
  })
}
