import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { contracts } from './suites.js'
import { buildApp } from './helpers.js'

test('memory backend', async (t) => {
  contracts(t, await useTarget(t, 'memory'))
})

test('memory backend keeps at most maxEntries sessions, least recently used out first', async (t) => {
  const { app } = await buildApp(t, { mode: 'memory' }, { maxEntries: 3 })
  const store = app.sessions.store
  const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }
  const ids = ['id-000000001', 'id-000000002', 'id-000000003', 'id-000000004']
  for (const id of ids.slice(0, 3)) await store.set(id, { cookie, id })
  await store.get(ids[0]!)
  await store.set(ids[3]!, { cookie, id: ids[3] })
  t.equal(await store.length(), 3)
  t.equal(await store.get(ids[1]!), null, 'least recently used was evicted')
  t.ok(await store.get(ids[0]!), 'recently read survives')
})
