import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'

test('single Redis', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  const prefixes: string[] = []

  const dropCounters = async (app: FastifyInstance): Promise<number> => {
    let n = 0
    for await (const key of app.redkit.scan(app.redkit.key('lock', '*:fence'))) n += await admin.del(key)
    return n
  }

  t.test('scripts survive SCRIPT FLUSH', async (t) => {
    const keyPrefix = uniquePrefix('lock')
    prefixes.push(keyPrefix)
    const app = await makeApp({ url: server.url, keyPrefix, env: {} })
    t.teardown(async () => await app.close())
    const a = await app.locks.acquire('flush')
    await admin.script('FLUSH')
    t.equal(await a.extend(), true)
    t.equal(await a.release(), true)
  })

  contract(t, {
    label: 'redis',
    setup: async (t, instances = 1, lock = {}) => {
      const keyPrefix = uniquePrefix('lock')
      prefixes.push(keyPrefix)
      const apps = await Promise.all(Array.from({ length: instances }, async () => await makeApp({ url: server.url, keyPrefix, env: {} }, lock)))
      t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })
      return { apps }
    },
    dropCounters,
    keysWithoutTtl: async () => {
      const missing: string[] = []
      for (const prefix of prefixes) {
        for await (const keys of admin.scanStream({ match: `${prefix}*`, count: 500 })) {
          for (const key of keys as string[]) if (await admin.pttl(key) === -1) missing.push(key)
        }
      }
      return missing
    }
  })
})
