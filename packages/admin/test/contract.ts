import { test } from 'tap'
import type { Cluster, Redis } from 'ioredis'
import type { RedkitOptions } from '@redkit/core'
import { uniquePrefix } from '@redkit/testing'
import { AUTH, build, concrete, login, SECRET_CONTENT, TOKEN } from './helpers.js'

export interface Target {
  name: 'memory' | 'redis' | 'cluster'
  /** Core options for one app; each call gets a fresh key prefix. */
  core: () => RedkitOptions
  /** An admin client for assertions (not in memory mode). */
  client?: () => Redis | Cluster
  /** Every master, for per-node checks. */
  masters?: () => Redis[]
  /** The server password, which must never appear in any answer. */
  password?: string
}

const PUBLIC = new Set(['GET /admin/health', 'HEAD /admin/health', 'GET /admin/ready', 'HEAD /admin/ready',
  'GET /admin', 'HEAD /admin', 'GET /admin/', 'HEAD /admin/'])
const SESSION_FIELDS = new Set(['sessionId', 'userId', 'created', 'expires', 'ip', 'userAgent'])

interface Page { sessions: Array<Record<string, unknown>>, nextCursor: string | null }

export function runContract (target: Target): void {
  const isRedis = target.name !== 'memory'

  test(`${target.name}: every admin route needs credentials; health, ready and the dashboard shell do not`, async (t) => {
    const { app, routes } = await build(t, target.core())
    const admin = routes.filter((r) => r.url === '/admin' || r.url.startsWith('/admin/'))
    t.ok(admin.length >= 30, `found ${admin.length} admin routes`)
    const publicSeen = new Set<string>()
    for (const { method, url } of admin) {
      const name = `${method} ${url}`
      const res = await app.inject({ method: method as 'GET', url: concrete(url) })
      if (PUBLIC.has(name)) {
        publicSeen.add(name)
        t.equal(res.statusCode, 200, `${name} is public`)
        continue
      }
      t.equal(res.statusCode, 401, `${name} without credentials`)
      if (method !== 'HEAD') {
        t.equal(res.json().code, 'FST_REDKIT_ADMIN_UNAUTHORIZED', `${name} error code`)
        t.match(res.headers['www-authenticate'], /^Bearer/)
      }
      const wrong = await app.inject({ method: method as 'GET', url: concrete(url), headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}x` } })
      t.equal(wrong.statusCode, 401, `${name} with a wrong token`)
      const basic = await app.inject({ method: method as 'GET', url: concrete(url), headers: { authorization: `Basic ${TOKEN}` } })
      t.equal(basic.statusCode, 401, `${name} with another scheme`)
    }
    t.ok(publicSeen.has('GET /admin/health') && publicSeen.has('GET /admin/ready'), 'health routes were enumerated')
    const inQuery = await app.inject({ url: `/admin/overview?token=${TOKEN}` })
    t.equal(inQuery.statusCode, 401, 'a token in the URL is not accepted')
    const ok = await app.inject({ url: '/admin/overview', headers: AUTH })
    t.equal(ok.statusCode, 200)
    t.equal(ok.json().mode, isRedis ? 'redis' : 'memory')
  })

  test(`${target.name}: ready and health`, async (t) => {
    const { app } = await build(t, target.core())
    const ready = await app.inject({ url: '/admin/ready' })
    t.equal(ready.statusCode, 200)
    t.match(ready.json(), { status: 'ok', mode: isRedis ? 'redis' : 'memory' })
    const health = await app.inject({ url: '/admin/health' })
    t.equal(health.statusCode, 200)
    t.equal(health.json().status, 'ok')
  })

  test(`${target.name}: the session list pages through every session, with metadata only`, async (t) => {
    const { app } = await build(t, target.core())
    const ids = new Set<string>()
    for (let i = 0; i < 23; i++) ids.add(await login(app, `user-${i % 4}`, `agent-${i}`))
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const url: string = `/admin/sessions?limit=7${cursor === null ? '' : `&cursor=${cursor}`}`
      const res = await app.inject({ url, headers: AUTH })
      t.equal(res.statusCode, 200, `page ${pages}`)
      t.notOk(res.body.includes(SECRET_CONTENT), 'no session contents in the page')
      t.notOk(res.body.includes('cart'), 'no session field names in the page')
      const page = res.json() as Page
      t.ok(page.sessions.length <= 7, 'page within the limit')
      for (const s of page.sessions) {
        for (const field of Object.keys(s)) t.ok(SESSION_FIELDS.has(field), `field ${field} is metadata`)
        seen.push(s.sessionId as string)
      }
      cursor = page.nextCursor
      pages++
    } while (cursor !== null && pages < 50)
    t.same(new Set(seen), ids, 'every session listed')
    const masters = target.masters?.() ?? []
    if (masters.length > 1) {
      const prefix = (app.redkit.prefix + 'sess:{').replace(/[*?[\]\\]/g, (c) => `\\${c}`)
      const counts = await Promise.all(masters.map(async (m) => {
        let n = 0
        let scan = '0'
        do {
          const [next, keys] = await m.scan(scan, 'MATCH', `${prefix}*`, 'COUNT', 1000)
          n += keys.length
          scan = next
        } while (scan !== '0')
        return n
      }))
      t.ok(counts.every((n) => n > 0), `sessions live on every master (${counts.join(', ')}) and the listing saw them all`)
    }
    t.ok(pages >= 4, `${pages} pages`)
    const one = (await app.inject({ url: '/admin/sessions?limit=1000', headers: AUTH })).json() as Page
    t.equal(new Set(one.sessions.map((s) => s.sessionId)).size, 23)
    const first = one.sessions.find((s) => s.userAgent === 'agent-5')
    t.match(first, { userId: 'user-1', ip: '127.0.0.1' })
    t.ok((first?.expires as number) > Date.now() && (first?.created as number) <= Date.now())

    const tooMany = await app.inject({ url: '/admin/sessions?limit=1001', headers: AUTH })
    t.equal(tooMany.statusCode, 400)
    const stats = await app.inject({ url: '/admin/sessions/stats', headers: AUTH })
    t.same(stats.json(), { mode: target.name === 'memory' ? 'memory' : 'redis', sessions: 23, users: 4 })
  })

  test(`${target.name}: glob characters in ids and cursors match only the literal`, async (t) => {
    const { app } = await build(t, target.core())
    const star = await login(app, 'a*')
    const plain = await login(app, 'ab')
    const other = await login(app, 'a?')
    for (const id of ['*', '????????', 'abc*defgh', '[a-z]*1234567', 'abcdefg\\*', `${star.slice(0, 10)}*`]) {
      const get = await app.inject({ url: `/admin/sessions/${encodeURIComponent(id)}`, headers: AUTH })
      t.equal(get.statusCode, 400, `GET session ${id}`)
      const del = await app.inject({ method: 'DELETE', url: `/admin/sessions/${encodeURIComponent(id)}`, headers: AUTH })
      t.equal(del.statusCode, 400, `DELETE session ${id}`)
    }
    const byStar = (await app.inject({ url: `/admin/users/${encodeURIComponent('a*')}/sessions`, headers: AUTH })).json()
    t.same(byStar.sessions.map((s: { sessionId: string }) => s.sessionId), [star], 'user a* sees only its own session')
    for (const user of ['*', 'a[bc]', 'a\\*', '?b']) {
      const res = await app.inject({ method: 'DELETE', url: `/admin/users/${encodeURIComponent(user)}/sessions`, headers: AUTH })
      t.equal(res.statusCode, 200)
      t.equal(res.json().revoked, 0, `revoking user ${user} touches nobody`)
    }
    for (const id of [star, plain, other]) {
      t.equal((await app.inject({ url: `/admin/sessions/${id}`, headers: AUTH })).statusCode, 200, 'sessions survive')
    }
    const forged = [
      '*', '%2A', Buffer.from('{"n":0,"c":"*"}').toString('base64url'), Buffer.from('{"n":0,"c":"0","p":["*"]}').toString('base64url'),
      Buffer.from('{"n":0,"c":"0","p":["abcdefgh*"]}').toString('base64url'), Buffer.from('{"a":"*"}').toString('base64url'),
      Buffer.from('{"a":"abc[defgh]"}').toString('base64url'), Buffer.from('{"n":99,"c":"0"}').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'), 'not base64 !'
    ]
    for (const cursor of forged) {
      const res = await app.inject({ url: `/admin/sessions?cursor=${encodeURIComponent(cursor)}`, headers: AUTH })
      t.equal(res.statusCode, 400, `cursor ${cursor}`)
      t.equal(res.json().code === 'FST_REDKIT_ADMIN_INVALID_CURSOR' || res.json().code === 'FST_ERR_VALIDATION', true)
    }
  })

  test(`${target.name}: one session and one user`, async (t) => {
    const { app } = await build(t, target.core())
    const a1 = await login(app, 'alice')
    const a2 = await login(app, 'alice')
    const b1 = await login(app, 'bob')
    const got = await app.inject({ url: `/admin/sessions/${a1}`, headers: AUTH })
    t.equal(got.statusCode, 200)
    t.match(got.json(), { sessionId: a1, userId: 'alice', userAgent: 'test-agent/1.0' })
    t.notOk(got.body.includes(SECRET_CONTENT))
    const missing = await app.inject({ url: '/admin/sessions/abcdefgh12345678', headers: AUTH })
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().code, 'FST_REDKIT_ADMIN_NOT_FOUND')

    const del = await app.inject({ method: 'DELETE', url: `/admin/sessions/${a1}`, headers: AUTH })
    t.same(del.json(), { sessionId: a1, revoked: true })
    t.equal((await app.inject({ url: `/admin/sessions/${a1}`, headers: AUTH })).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: `/admin/sessions/${a1}`, headers: AUTH })).statusCode, 404)

    const alice = (await app.inject({ url: '/admin/users/alice/sessions', headers: AUTH })).json()
    t.same(alice.sessions.map((s: { sessionId: string }) => s.sessionId), [a2])
    t.notOk(JSON.stringify(alice).includes(SECRET_CONTENT))
    const revokeAll = await app.inject({ method: 'DELETE', url: '/admin/users/alice/sessions', headers: AUTH })
    t.same(revokeAll.json(), { userId: 'alice', revoked: 1 })
    t.equal((await app.inject({ url: `/admin/sessions/${a2}`, headers: AUTH })).statusCode, 404)
    t.equal((await app.inject({ url: `/admin/sessions/${b1}`, headers: AUTH })).statusCode, 200, 'other users keep theirs')
    const control = await app.inject({ url: '/admin/users/a%01b/sessions', headers: AUTH })
    t.equal(control.statusCode, 400)
    t.equal(control.json().code, 'FST_REDKIT_ADMIN_INVALID_ID')
  })

  test(`${target.name}: cleanup drops orphaned index entries`, async (t) => {
    const core = target.core()
    const { app } = await build(t, core)
    const keep = await login(app, 'carol')
    const lost = await login(app, 'carol')
    if (target.client !== undefined) {
      const client = target.client()
      // A session that vanished without its index entry, as after an eviction.
      await client.del(`${core.keyPrefix ?? ''}sess:{${lost}}`)
    }
    // The memory backend cannot lose a session behind its index's back: nothing is orphaned there.
    const orphans = target.client !== undefined ? 1 : 0
    const res = await app.inject({ method: 'POST', url: '/admin/sessions/cleanup', headers: AUTH })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { indexes: 1, entries: 2, removed: orphans })
    const again = await app.inject({ method: 'POST', url: '/admin/sessions/cleanup', headers: AUTH })
    t.same(again.json(), { indexes: 1, entries: 2 - orphans, removed: 0 })
    const listed = (await app.inject({ url: '/admin/users/carol/sessions', headers: AUTH })).json().sessions
    t.same(listed.map((s: { sessionId: string }) => s.sessionId).sort(), (orphans === 1 ? [keep] : [keep, lost]).sort(),
      'the user lists only live sessions')
    t.equal((await app.inject({ url: `/admin/sessions/${keep}`, headers: AUTH })).statusCode, 200)
  })

  test(`${target.name}: INFO is allowlisted and never shows credentials`, async (t) => {
    const { app } = await build(t, target.core())
    const res = await app.inject({ url: '/admin/redis/info', headers: AUTH })
    t.equal(res.statusCode, 200)
    const body = res.json() as { nodes: Array<{ node: string, error?: string, sections: Record<string, Record<string, string>> }> }
    if (!isRedis) {
      t.same(body.nodes, [])
      return
    }
    t.equal(body.nodes.length, target.masters?.().length ?? 1, 'one entry per node')
    for (const node of body.nodes) {
      t.notOk(node.error, `node ${node.node} answered`)
      t.ok(Object.keys(node.sections).every((s) => ['server', 'clients', 'memory', 'stats', 'keyspace', 'replication'].includes(s)))
      t.ok(node.sections.server?.redis_version, 'server section parsed')
      t.ok(node.sections.memory?.used_memory, 'memory section parsed')
      t.notOk('cpu' in node.sections || 'commandstats' in node.sections || 'persistence' in node.sections)
      t.notOk('config_file' in (node.sections.server ?? {}))
      t.notOk('executable' in (node.sections.server ?? {}))
    }
    for (const word of ['requirepass', 'masterauth', 'config_file', 'executable']) t.notOk(res.body.includes(word), `no ${word}`)
    if (target.password !== undefined) t.notOk(res.body.includes(target.password), 'the password never appears')
  })

  test(`${target.name}: the slow log shows commands, never arguments`, async (t) => {
    const { app } = await build(t, target.core())
    if (!isRedis) {
      t.same((await app.inject({ url: '/admin/redis/slowlog', headers: AUTH })).json(), { nodes: [] })
      return
    }
    const masters = target.masters!()
    for (const m of masters) {
      await m.config('SET', 'slowlog-log-slower-than', '0')
      await m.slowlog('RESET')
    }
    t.teardown(async () => { for (const m of masters) await m.config('SET', 'slowlog-log-slower-than', '10000').catch(() => {}) })
    await login(app, 'dave')
    const res = await app.inject({ url: '/admin/redis/slowlog?count=200', headers: AUTH })
    t.equal(res.statusCode, 200)
    const body = res.json() as { nodes: Array<{ entries: Array<{ command: string, argCount: number }> }> }
    t.equal(body.nodes.length, masters.length)
    const commands = body.nodes.flatMap((n) => n.entries.map((e) => e.command))
    t.ok(commands.some((c) => c === 'EVALSHA' || c === 'EVAL'), 'scripts are listed')
    t.notOk(res.body.includes(SECRET_CONTENT), 'no arguments')
    t.notOk(res.body.includes('dave'), 'no keys')
    t.equal((await app.inject({ url: '/admin/redis/slowlog?count=0', headers: AUTH })).statusCode, 400)
  })

  test(`${target.name}: locks, pub/sub, cache and rate limits`, async (t) => {
    const { app } = await build(t, target.core())
    const lock = await app.locks.acquire('report:42', { ttl: 30_000 })
    const locks = (await app.inject({ url: '/admin/locks', headers: AUTH })).json()
    t.match(locks.locks, [{ name: 'report:42', kind: 'lock' }])
    await lock.release()
    t.same((await app.inject({ url: '/admin/locks', headers: AUTH })).json(), { locks: [], nextCursor: null })

    const off = await app.pubsub.subscribe('news', () => {})
    const ps = (await app.inject({ url: '/admin/pubsub', headers: AUTH })).json()
    t.match(ps, { channels: [{ channel: 'news', subscribers: 1 }], gaps: 0 })
    await off()

    await app.cache.set('a', 1, { tags: ['team:1'] })
    await app.cache.set('b', 2, { tags: ['team:1'] })
    await app.cache.set('c', 3, { tags: ['team:2'] })
    await app.cache.get('a')
    await app.cache.get('zzz')
    const cs = (await app.inject({ url: '/admin/cache/stats', headers: AUTH })).json()
    t.match(cs, { total: { hits: 1, misses: 1 } })
    const inv = await app.inject({ method: 'DELETE', url: '/admin/cache?tag=team:1', headers: AUTH })
    t.same(inv.json(), { tags: ['team:1'], removed: 2 })
    t.equal(await app.cache.get('a'), undefined)
    t.equal(await app.cache.get('c'), 3)
    const glob = await app.inject({ method: 'DELETE', url: '/admin/cache?tag=*', headers: AUTH })
    t.equal(glob.json().removed, 0, 'a * tag matches only a tag named *')
    t.equal(await app.cache.get('c'), 3)
    t.equal((await app.inject({ method: 'DELETE', url: '/admin/cache', headers: AUTH })).statusCode, 400, 'tag is required')

    await app.limiter.check('10.0.0.1')
    await app.limiter.check('10.0.0.1')
    const peek = (await app.inject({ url: '/admin/rate-limit/10.0.0.1', headers: AUTH })).json()
    t.match(peek, { key: '10.0.0.1', remaining: peek.limit - 2 })
    const star = (await app.inject({ url: '/admin/rate-limit/*', headers: AUTH })).json()
    t.equal(star.remaining, star.limit, 'a * key is its own key')
    t.same((await app.inject({ method: 'DELETE', url: '/admin/rate-limit/10.0.0.1', headers: AUTH })).json(), { key: '10.0.0.1', reset: true })
    const after = (await app.inject({ url: '/admin/rate-limit/10.0.0.1', headers: AUTH })).json()
    t.equal(after.remaining, after.limit)
  })

  test(`${target.name}: held locks page by cursor, and the metrics count them without listing`, async (t) => {
    const { app } = await build(t, target.core())
    const held = await Promise.all(Array.from({ length: 25 }, async (_, i) => await app.locks.acquire(`admin-page:${i}`, { ttl: 30_000 })))
    const names: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      const res = await app.inject({ url: `/admin/locks?limit=10${query}`, headers: AUTH })
      t.equal(res.statusCode, 200)
      const body = res.json() as { locks: Array<{ name: string }>, nextCursor: string | null }
      t.ok(body.locks.length <= 10)
      names.push(...body.locks.map((l) => l.name))
      cursor = body.nextCursor
      if (cursor !== null) t.ok(cursor.length < 1024, 'a short cursor')
      pages++
    } while (cursor !== null && pages < 20)
    t.ok(pages >= 3, `${pages} pages`)
    t.equal(new Set(names).size, 25, 'every lock once')
    const bad = await app.inject({ url: '/admin/locks?cursor=nope', headers: AUTH })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().code, 'FST_REDKIT_ADMIN_INVALID_CURSOR')
    t.equal((await app.inject({ url: '/admin/locks?limit=0', headers: AUTH })).statusCode, 400)

    const list = app.locks.list
    let listed = 0
    app.locks.list = async (opts) => { listed++; return await list(opts) }
    t.teardown(() => { app.locks.list = list })
    const text = (await app.inject({ url: '/admin/metrics', headers: AUTH })).body
    t.match(text, /redkit_locks_held 25/)
    t.match(text, /redkit_locks_waiting 0/)
    t.match(text, /redkit_locks_subscription_losses_total 0/)
    t.equal(listed, 0, 'the gauge counts, it does not list')
    await Promise.all(held.map(async (l) => await l.release()))
  })

  test(`${target.name}: Prometheus metrics from core and every package`, async (t) => {
    const { app } = await build(t, target.core())
    await app.cache.get('nothing')
    await app.limiter.check('10.0.0.9')
    const res = await app.inject({ url: '/admin/metrics', headers: AUTH })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain/)
    const text = res.body
    t.match(text, /# TYPE redkit_redis_commands_total counter/)
    t.match(text, /redkit_redis_up 1/)
    t.match(text, new RegExp(`redkit_info\\{mode="${isRedis ? 'redis' : 'memory'}"`))
    t.match(text, /redkit_cache_misses_total\{namespace="default"\} 1/)
    t.match(text, /redkit_rate_limit_checks_total 1/)
    t.match(text, /# TYPE redkit_pubsub_published_total counter/)
    t.match(text, /redkit_locks_held 0/)
    t.match(text, /# TYPE redkit_redis_ping_duration_seconds histogram/)
    if (isRedis) {
      const second = (await app.inject({ url: '/admin/metrics', headers: AUTH })).body
      t.match(second, /redkit_redis_ping_duration_seconds_count [1-9]/)
      const commands = Number(/redkit_redis_commands_total (\d+)/.exec(second)?.[1])
      t.ok(commands > 0, 'commands counted')
    }
  })
}

export { uniquePrefix }
