import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import type { RedisBackend } from '../src/redis.js'
import { buildApp } from './helpers.js'

const TTL = 60_000
const SLACK = 60_000
const cookie = (): Record<string, unknown> => ({ originalMaxAge: TTL, expires: new Date(Date.now() + TTL) })

test('registry upkeep on a single server', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  t.teardown(() => { admin.disconnect() })
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('sess-upkeep') })
  const store = app.sessions.store
  const registry = (store.backend as RedisBackend).registry
  const calls = async (name: string): Promise<number> =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(await admin.info('commandstats'))?.[1] ?? 0)

  t.test('the registry outlives its latest entry by at most the slack, and is not moved on every save', async (t) => {
    await store.set('upkeep-first-session', { cookie: cookie() })
    const ttl = await admin.pttl(registry)
    t.ok(ttl >= TTL - 1000, `covers the session (${ttl} ms)`)
    t.ok(ttl <= TTL + SLACK, `bounded (${ttl} ms)`)
    const before = await calls('pexpireat')
    await store.set('upkeep-second-session', { cookie: cookie() })
    t.equal(await calls('pexpireat') - before, 0, 'a save within the slack leaves the expiry alone')
    t.ok(await admin.pttl(registry) >= TTL - 1000, 'still covers the latest session')
  })

  t.test('a save that adds an entry drops up to 100 expired ones; one that moves an entry drops none', async (t) => {
    const past = Date.now() - 10_000
    const expired = Array.from({ length: 150 }, (_, i) => [past + i, `upkeep-expired-${String(i).padStart(4, '0')}`]).flat()
    await admin.zadd(registry, ...expired)
    const size = async (): Promise<number> => await admin.zcard(registry)
    const start = await size()
    await store.set('upkeep-second-session', { cookie: cookie() })
    t.equal(await size(), start, 'moving an entry drops nothing')
    await store.set('upkeep-third-session', { cookie: cookie() })
    t.equal(await size(), start + 1 - 100, 'adding one drops 100 expired')
    await store.set('upkeep-fourth-session', { cookie: cookie() })
    t.equal(await size(), start + 2 - 150, 'the next addition drops the rest')
    t.same(await app.sessions.count(), { sessions: 4, users: 0 }, 'expired entries were never counted')
  })
})
