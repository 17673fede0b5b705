import Fastify from 'fastify'
import { Redis } from 'ioredis'
import redkit from '@redkit/core'
import { startRedis } from '@redkit/testing'
import locks from '../dist/index.js'
const PAIRS = 20000, IN_FLIGHT = 50, TTL = 10000
const server = await startRedis({ local: true })
const a = Fastify(); await a.register(redkit, { url: server.url, keyPrefix: 'b:', env: {} }); await a.register(locks); await a.ready()
const raw = new Redis(server.options({}))
raw.defineCommand('cad', { numberOfKeys: 1, lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0` })
async function tp (pair) { let next = 0; const t0 = performance.now(); await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, s) => { while (next < PAIRS) { const i = next++; await pair(s, i) } })); return PAIRS / ((performance.now() - t0) / 1000) }
a.redis.defineCommand('cad', { numberOfKeys: 1, lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0` })
const rawc = async (s, i) => { const k = `rawc:k${s}`; const v = `v${i}`; if (await a.redis.set(k, v, 'PX', TTL, 'NX') !== 'OK') throw new Error('held'); await a.redis.cad(k, v) }
import { LOCK_ACQUIRE, LOCK_RELEASE } from '../dist/lua.js'
a.redis.defineCommand('la', { numberOfKeys: 4, lua: LOCK_ACQUIRE })
a.redis.defineCommand('lr', { numberOfKeys: 3, lua: LOCK_RELEASE })
let seq = 0
const scr = async (s) => { const b = `b:lock:{k${s}}`; const o = `abcdef0123456789:${++seq}`; const tok = await a.redis.la(`${b}:holder`, `${b}:fence`, `${b}:queue`, `${b}:alive`, o, TTL, '1', 1000, '2592000000'); if (typeof tok !== 'number') throw new Error('x'); await a.redis.lr(`${b}:holder`, `${b}:queue`, `${b}:alive`, `${tok}|${o}`, 'b:lock:wake') }
const ours = async (s) => { const l = await a.locks.acquire(`k${s}`, { ttl: TTL }); await l.release() }
const rawp = async (s, i) => { const k = `raw:k${s}`; const v = `v${i}`; if (await raw.set(k, v, 'PX', TTL, 'NX') !== 'OK') throw new Error('held'); await raw.cad(k, v) }
for (const p of [ours, rawp, rawc, scr]) await tp(p)
const admin = new Redis(server.options({}))
await admin.config('RESETSTAT')
const which = process.argv[2] ?? 'both'
for (let r = 0; r < 5; r++) {
  for (const [n, p] of [['ours', ours], ['raw ', rawp], ['rawc', rawc], ['scr ', scr]]) {
    if (which !== 'both' && !n.startsWith(which)) continue
    const c0 = process.cpuUsage(); const rate = await tp(p); const c = process.cpuUsage(c0)
    console.log(n, Math.round(rate), 'node µs/pair', ((c.user + c.system) / PAIRS).toFixed(1))
  }
}
console.log((await admin.info('commandstats')).split('\n').filter(l => /evalsha|cmdstat_set|cmdstat_eval:/.test(l)).join('\n'))
await a.close(); raw.disconnect(); admin.disconnect(); await server.stop(); process.exit(0)
