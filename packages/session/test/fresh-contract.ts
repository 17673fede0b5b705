import type { Test } from 'tap'
import type { Factory } from './contract.js'

const cookie = (maxAge = 60_000): Record<string, unknown> => ({ originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) })

async function commandCalls (env: Awaited<ReturnType<Factory>>, names: string[]): Promise<number> {
  const stats = await env.redis!.info('commandstats')
  return names.reduce((sum, name) => sum + Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0)
}

/** New sessions: ids the store generated for a request, first saved without any read. */
export function freshContract (t: Test, make: Factory): void {
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
