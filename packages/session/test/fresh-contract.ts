import type { Test } from 'tap'
import type { Factory } from './contract.js'

const cookie = (maxAge = 60_000): Record<string, unknown> => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) })

async function commandCalls (env: Awaited<ReturnType<Factory>>, names: string[]): Promise<number> {
  const stats = await env.redis!.info('commandstats')
  return names.reduce((sum, name) => sum + Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0)
}

/** Script calls the test's own Redis ran, or undefined where they cannot be counted (memory, Cluster). */
async function scriptCalls (env: Awaited<ReturnType<Factory>>): Promise<number | undefined> {
  if (env.redis === undefined || (env.redis as { isCluster?: boolean }).isCluster === true) return undefined
  return await commandCalls(env, ['evalsha', 'eval'])
}

const ids = (label: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${label}-${String(i).padStart(4, '0')}-session`)

/** New sessions: ids the store generated for a request, first saved without any read. */
export function freshContract (t: Test, make: Factory): void {
  t.test('first saves issued together: each written whole, registered, expiring; one script call on a single server', async (t) => {
    const env = await make(t)
    const store = env.handle.app.sessions.store
    // Warm-up: the script is loaded before calls are counted.
    await store.set('batch-warm-up-session', { cookie: cookie() })
    const batch = ids('batch', 40)
    const userOf = (i: number): string | undefined => i % 4 === 3 ? undefined : `batch-user-${i % 4}`
    const before = await scriptCalls(env)
    const start = Date.now()
    await Promise.all(batch.map(async (id, i) => {
      const user = userOf(i)
      await store.set(id, { cookie: cookie(60_000 + i * 1000), i, ...(user === undefined ? {} : { userId: user }) })
    }))
    const after = await scriptCalls(env)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call for the lot')
    for (const [i, id] of batch.entries()) {
      t.equal((await store.get(id))?.i, i, `session ${i} reads back`)
      const meta = await env.handle.app.sessions.meta(id)
      t.equal(meta?.userId, userOf(i), `session ${i} has its user`)
      const ttl = 60_000 + i * 1000
      t.ok(meta !== null && meta.expires > start + ttl - 5000 && meta.expires <= Date.now() + ttl + 1000, `session ${i} expires with its own TTL`)
    }
    t.same(await env.handle.app.sessions.count(), { sessions: 41, users: 3 })
    for (const u of [0, 1, 2]) {
      const listed = (await env.handle.app.sessions.listByUser(`batch-user-${u}`)).map((s) => s.sessionId).sort()
      t.same(listed, batch.filter((_, i) => i % 4 === u), `user ${u} lists its sessions`)
    }
    const listed: string[] = []
    let cursor: string | null | undefined
    do {
      const page = await env.handle.app.sessions.list({ limit: 16, ...(cursor == null ? {} : { cursor }) })
      listed.push(...page.sessions.map((s) => s.sessionId))
      cursor = page.cursor
    } while (cursor !== null)
    t.same(listed.sort(), [...batch, 'batch-warm-up-session'].sort(), 'the registry lists every session')
  })

  t.test('first saves issued together: a tombstoned id fails alone', async (t) => {
    const env = await make(t)
    const { app } = env.handle
    const store = app.sessions.store
    const [kept, buried, other] = ids('tomb', 3) as [string, string, string]
    await store.set(buried, { cookie: cookie(), userId: 'tomb-user', v: 0 })
    await store.destroy(buried)
    const before = await scriptCalls(env)
    await Promise.all([
      store.set(kept, { cookie: cookie(), userId: 'tomb-user', v: 1 }),
      store.set(buried, { cookie: cookie(), userId: 'tomb-user', v: 2 }),
      store.set(other, { cookie: cookie(), v: 3 })
    ])
    const after = await scriptCalls(env)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call')
    t.equal(await store.get(buried), null, 'the destroyed id stays destroyed')
    t.equal((await store.get(kept))?.v, 1)
    t.equal((await store.get(other))?.v, 3)
    t.same((await app.sessions.listByUser('tomb-user')).map((s) => s.sessionId), [kept])
    t.same(await app.sessions.count(), { sessions: 2, users: 1 })
  })

  t.test('first saves issued together: one stopped by a key of the wrong type fails alone', async (t) => {
    const env = await make(t)
    if (env.redis === undefined) return
    const { app } = env.handle
    const store = app.sessions.store
    await store.set('wrongtype-warm-up-session', { cookie: cookie() })
    await env.redis.set(`${app.redkit.key('sess-user', '')}{wrongtype-user}`, 'not a sorted set', 'PX', 60_000)
    const [kept, broken, other] = ids('wrongtype', 3) as [string, string, string]
    const before = await scriptCalls(env)
    const results = await Promise.allSettled([
      store.set(kept, { cookie: cookie(), v: 1 }),
      store.set(broken, { cookie: cookie(), userId: 'wrongtype-user', v: 2 }),
      store.set(other, { cookie: cookie(), userId: 'wrongtype-fine', v: 3 })
    ])
    const after = await scriptCalls(env)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call')
    t.equal(results[0].status, 'fulfilled')
    t.equal(results[2].status, 'fulfilled')
    t.match(results[1], { status: 'rejected', reason: { message: /WRONGTYPE/ } }, 'the save that hit the wrong type rejects with the reply error')
    t.equal((await store.get(kept))?.v, 1)
    t.equal((await store.get(other))?.v, 3)
    t.same((await app.sessions.listByUser('wrongtype-fine')).map((s) => s.sessionId), [other], 'the next session of the batch is indexed')
  })

  t.test('first saves issued together keep issue order with other commands of the same id', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const [id, other, late] = ids('order', 3) as [string, string, string]
    const first = store.set(id, { cookie: cookie(), v: 1 })
    const read = store.get(id)
    const second = store.set(id, { cookie: cookie(), v: 2 })
    const elsewhere = store.set(other, { cookie: cookie(), v: 3 })
    const lateSave = store.set(late, { cookie: cookie(), v: 4 })
    const destroyed = store.destroy(late)
    await Promise.all([first, second, elsewhere, lateSave, destroyed])
    t.equal((await read)?.v, 1, 'the load sees the save issued before it, not the one after')
    t.equal((await store.get(id))?.v, 2, 'the last save wins')
    t.equal((await store.get(other))?.v, 3)
    t.equal(await store.get(late), null, 'the destroy, issued after its save, wins')
  })

  t.test('updates issued together: one script call; each writes only its changes; a revoked session stays revoked', async (t) => {
    const env = await make(t)
    const { app } = env.handle
    const store = app.sessions.store
    const made = ids('update', 6)
    await Promise.all(made.map(async (id, i) => { await store.set(id, { cookie: cookie(), userId: `update-user-${i % 2}`, i, keep: `k${i}` }) }))
    const loaded = await Promise.all(made.map(async (id) => (await store.get(id))!))
    await app.sessions.revoke(made[2]!)
    const before = await scriptCalls(env)
    await Promise.all(loaded.map(async (session, i) => {
      session.i = i + 100
      session.cookie = cookie(120_000)
      await store.set(made[i]!, session)
    }))
    const after = await scriptCalls(env)
    if (before !== undefined) t.equal(after! - before, 1, 'one script call for the lot')
    for (const [i, id] of made.entries()) {
      if (i === 2) {
        t.equal(await store.get(id), null, 'the revoked session is not brought back')
        continue
      }
      const again = await store.get(id)
      t.equal(again?.i, i + 100, `session ${i} has its change`)
      t.equal(again?.keep, `k${i}`, `session ${i} keeps its other fields`)
      const meta = await app.sessions.meta(id)
      t.ok(meta !== null && meta.expires > Date.now() + 100_000, `session ${i} expires later now`)
    }
    t.same(await app.sessions.count(), { sessions: 5, users: 2 })
    t.same((await app.sessions.listByUser('update-user-0')).map((s) => s.sessionId).sort(), [made[0], made[4]].sort())
  })

  t.test('a burst of first saves is split into bounded script calls', async (t) => {
    const env = await make(t)
    const store = env.handle.app.sessions.store
    await store.set('burst-warm-up-session', { cookie: cookie() })
    const burst = ids('burst', 300)
    const before = await scriptCalls(env)
    await Promise.all(burst.map(async (id, i) => { await store.set(id, { cookie: cookie(), i }) }))
    const after = await scriptCalls(env)
    if (before !== undefined) t.equal(after! - before, 2, '256 sessions a call at most')
    t.same(await env.handle.app.sessions.count(), { sessions: 301, users: 0 })
    t.equal((await store.get(burst[299]!))?.i, 299)
  })

  t.test('new sessions of concurrent requests are each written and registered', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    app.get('/fresh-many', async (request) => {
      request.session.userId = 'many'
      request.session.set('n', 1)
      return { id: request.session.sessionId }
    })
    const replies = await Promise.all(Array.from({ length: 12 }, async () => await app.inject('/fresh-many')))
    const made = replies.map((res) => res.json<{ id: string }>().id).sort()
    t.equal(new Set(made).size, 12)
    t.same((await app.sessions.listByUser('many')).map((s) => s.sessionId).sort(), made)
    for (const res of replies) {
      const again = await app.inject({ url: '/me', cookies: { sessionId: res.cookies.find((c) => c.name === 'sessionId')!.value } })
      t.equal(again.json().data.n, 1)
    }
  })

  t.test('new sessions: one revoked between two saves of its request stays revoked', async (t) => {
    const { handle } = await make(t)
    const { app } = handle
    app.get('/fresh-twice', async (request) => {
      request.session.userId = 'fresh-user'
      await request.session.save()
      const id = request.session.sessionId
      await app.sessions.revoke(id)
      request.session.set('more', 1)
      await request.session.save()
      return { id }
    })
    const res = await app.inject('/fresh-twice')
    t.equal(res.statusCode, 200)
    const { id } = res.json<{ id: string }>()
    t.equal(await app.sessions.meta(id), null, 'the second save did not bring it back')
    t.same(await app.sessions.listByUser('fresh-user'), [])
    t.same(await app.sessions.count(), { sessions: 0, users: 0 })
  })

  t.test('new sessions: the first save of a generated id is written whole, with its registries', async (t) => {
    const env = await make(t)
    const { app } = env.handle
    app.get('/fresh', async (request) => {
      request.session.userId = 'first-visit'
      request.session.set('n', 1)
      return { id: request.session.sessionId }
    })
    // Warm-up: script loading and connection set-up are not part of a save.
    await app.inject('/fresh')
    const single = env.redis !== undefined && !(env.redis as { isCluster?: boolean }).isCluster
    const before = single ? await commandCalls(env, ['exists', 'del', 'hgetall']) : 0
    const res = await app.inject('/fresh')
    if (single) t.equal(await commandCalls(env, ['exists', 'del', 'hgetall']) - before, 0, 'nothing read or deleted for a fresh id')
    const { id } = res.json<{ id: string }>()
    const meta = await app.sessions.meta(id)
    t.equal(meta?.userId, 'first-visit')
    t.same((await app.sessions.listByUser('first-visit')).map((s) => s.sessionId).includes(id), true)
    t.same(await app.sessions.count(), { sessions: 2, users: 1 })
    const cookieHeader = res.cookies.find((c) => c.name === 'sessionId')
    const again = await app.inject({ url: '/me', cookies: { sessionId: cookieHeader!.value } })
    t.equal(again.json().data.n, 1, 'the cookie brings the session back')
  })

  t.test('new sessions: a save and a destroy issued together apply in issue order', async (t) => {
    const { handle } = await make(t)
    const store = handle.app.sessions.store
    const id = 'issue-order-session-0001'
    const saving = store.set(id, { cookie: cookie(), a: 1 })
    await store.destroy(id)
    await saving
    t.equal(await store.get(id), null, 'the destroy, issued last, wins')
  })
}
