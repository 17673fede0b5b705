// Store-only cost, no HTTP: get + modify + set (or, with NEW=1, a set of a
// new session) through the store API that @fastify/session calls, 50
// concurrent loops, CPU microseconds of this process per operation.
// `node bench/store-micro.mjs [ours|peer]`; STATS=1 prints Redis commandstats.
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { redkit } from '@redkit/core'
import { startRedis } from '@redkit/testing'
import { SessionStore } from '../dist/index.js'

const ConnectRedis = createRequire(import.meta.url)('connect-redis').default

const redis = await startRedis({ local: true })
const app = Fastify()
await app.register(redkit, { url: redis.url, keyPrefix: 'micro:', env: {} })
await app.ready()
const ours = new SessionStore(app)
const client = new Redis(redis.url)
const peer = new ConnectRedis({ client, prefix: 'micro-cr:' })
const cb = (fn) => new Promise((resolve, reject) => fn((err, v) => err ? reject(err) : resolve(v)))
const cookie = () => ({ originalMaxAge: 3600000, expires: new Date(Date.now() + 3600000), path: '/', httpOnly: true, secure: false, sameSite: null, domain: null })

async function measure (store, label, ops = 20000) {
  const ids = Array.from({ length: 50 }, (_, i) => `micro-session-${String(i).padStart(4, '0')}-xxxxxxxxxxxx`)
  for (const id of ids) await cb((c) => store.set(id, { cookie: cookie(), n: 0, user: { id: 42, name: 'bench', roles: ['a', 'b'] } }, c))
  let left = ops
  const startCpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(ids.map(async (id) => {
    while (left-- > 0) {
      if (process.env.NEW === '1') {
        await cb((c) => store.set(`${id}-${left}`, { cookie: cookie(), user: 'u1' }, c))
        continue
      }
      const s = await cb((c) => store.get(id, c))
      s.n++
      s.cookie = cookie()
      await cb((c) => store.set(id, s, c))
    }
  }))
  const ms = performance.now() - start
  const cpu = process.cpuUsage(startCpu)
  console.log(`${label.padEnd(16)} ${Math.round(ops / ms * 1000)} ops/s, ${((cpu.user + cpu.system) / ops).toFixed(1)} µs CPU/op`)
}
const only = process.argv[2]
for (let i = 0; i < 2; i++) {
  if (only === 'ours') { await measure(ours, '@redkit/session'); continue }
  if (only === 'peer') { await measure(peer, 'connect-redis 7'); continue }
  await measure(ours, '@redkit/session')
  await measure(peer, 'connect-redis 7')
}
if (process.env.STATS) console.log((await client.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat')).join('\n'))
await app.close(); client.disconnect(); await redis.stop()
