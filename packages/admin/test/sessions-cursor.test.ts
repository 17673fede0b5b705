import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import type { RedkitOptions } from '@redkit/core'
import { AUTH, build, login } from './helpers.js'

interface Page { sessions: Array<{ sessionId: string }>, nextCursor: string | null }

test('session list cursors stay under 1 KB; an oversized cursor gets a coded 400', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const targets: Array<[string, () => RedkitOptions]> = [
    ['memory', () => ({ mode: 'memory', env: {} })],
    ['redis', () => ({ url: server.url, keyPrefix: uniquePrefix('admin-cursor'), env: {} })]
  ]
  for (const [name, core] of targets) {
    await t.test(name, async (t) => {
      const { app } = await build(t, core(), { packages: ['session'] })
      const ids = new Set<string>()
      for (let i = 0; i < 30; i++) ids.add(await login(app, `user-${i % 3}`))
      const seen = new Set<string>()
      let cursor: string | null = null
      let longest = 0
      let pages = 0
      do {
        const url: string = `/admin/sessions?limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
        const res = await app.inject({ url, headers: AUTH })
        t.equal(res.statusCode, 200)
        const page = res.json() as Page
        for (const s of page.sessions) seen.add(s.sessionId)
        cursor = page.nextCursor
        if (cursor !== null) longest = Math.max(longest, cursor.length)
        pages++
      } while (cursor !== null && pages < 100)
      t.same(seen, ids, 'every session listed at limit 1')
      t.ok(longest > 0 && longest < 1024, `cursors under 1 KB (${longest} characters)`)
      for (const size of [513, 5000, 100_000]) {
        const res = await app.inject({ url: `/admin/sessions?cursor=${'A'.repeat(size)}`, headers: AUTH })
        t.equal(res.statusCode, 400, `a ${size}-character cursor`)
        t.equal(res.json().code, 'FST_REDKIT_ADMIN_INVALID_CURSOR')
      }
      const stats = await app.inject({ url: '/admin/sessions/stats', headers: AUTH })
      t.same(stats.json(), { mode: name, sessions: 30, users: 3 })
    })
  }
})
