import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { contracts, everyKeyExpires } from './suites.js'
import { buildApp } from './helpers.js'

test('single Redis', async (t) => {
  const target = await useTarget(t, 'redis')
  contracts(t, target)

  t.test('scripts survive SCRIPT FLUSH', async (t) => {
    const { app } = await buildApp(t, { ...target.core, keyPrefix: target.prefix('sess-flush') })
    const store = app.sessions.store
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }
    await store.set('flushed-session-1', { cookie, a: 1 })
    await target.admin.script('FLUSH')
    t.equal((await store.get('flushed-session-1'))?.a, 1)
    await target.admin.script('FLUSH')
    const loaded = await store.get('flushed-session-1')
    loaded!.b = 2
    await target.admin.script('FLUSH')
    await store.set('flushed-session-1', loaded!)
    t.equal((await store.get('flushed-session-1'))?.b, 2)
  })

  everyKeyExpires(t, target)
})
