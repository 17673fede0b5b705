import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { contract, type Factory } from './contract.js'
import { storeContract } from './store-contract.js'
import { registryContract } from './registry-contract.js'
import { freshContract } from './fresh-contract.js'
import { buildApp, keysWithoutTtl } from './helpers.js'

test('single Redis', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  const prefixes: string[] = []
  const make: Factory = async (t, session) => {
    const prefix = uniquePrefix('sess-redis')
    prefixes.push(prefix)
    const handle = await buildApp(t, { url: server.url, keyPrefix: prefix }, session)
    return { handle, redis: admin, prefix }
  }
  contract(t, make)
  storeContract(t, make)
  registryContract(t, make)
  freshContract(t, make)

  t.test('scripts survive SCRIPT FLUSH', async (t) => {
    const prefix = uniquePrefix('sess-flush')
    prefixes.push(prefix)
    const { app } = await buildApp(t, { url: server.url, keyPrefix: prefix })
    const store = app.sessions.store
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }
    await store.set('flushed-session-1', { cookie, a: 1 })
    await admin.script('FLUSH')
    t.equal((await store.get('flushed-session-1'))?.a, 1)
    await admin.script('FLUSH')
    const loaded = await store.get('flushed-session-1')
    loaded!.b = 2
    await admin.script('FLUSH')
    await store.set('flushed-session-1', loaded!)
    t.equal((await store.get('flushed-session-1'))?.b, 2)
  })

  t.test('zero keys without a TTL under the test prefixes', async (t) => {
    for (const prefix of prefixes) t.same(await keysWithoutTtl(admin, prefix), [], prefix)
  })
})
