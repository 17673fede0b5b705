import { Redis } from 'ioredis'
import { startRedis } from '@redkit/testing'
import { LOCK_ACQUIRE, LOCK_RELEASE } from '../dist/lua.js'
const server = await startRedis({ local: true })
const r = new Redis(server.options({}))
const variants = {
  full: [LOCK_ACQUIRE, 4],
  setnx: [`return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`, 4],
  pttl_exists_set: [`local h = redis.call('PTTL', KEYS[1]) if h == -2 then if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end end return 0`, 4],
  incr: [`local h = redis.call('PTTL', KEYS[1]) if h == -2 then if redis.call('EXISTS', KEYS[3]) == 0 then local tok = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[5]) redis.call('SET', KEYS[1], tok .. '|' .. ARGV[1], 'PX', ARGV[2]) return tok end end return 0`, 4],
  getset: [`local h = redis.call('PTTL', KEYS[1]) if h == -2 then if redis.call('EXISTS', KEYS[3]) == 0 then local last = redis.call('GET', KEYS[2]) local tok = tonumber(last or '0') + 1 local text = string.format('%d', tok) redis.call('SET', KEYS[2], text, 'PX', ARGV[5]) redis.call('SET', KEYS[1], text .. '|' .. ARGV[1], 'PX', ARGV[2]) return tok end end return 0`, 4],
  timeset: [`local h = redis.call('PTTL', KEYS[1]) if h == -2 then if redis.call('EXISTS', KEYS[3]) == 0 then local t = redis.call('TIME') local last = redis.call('GET', KEYS[2]) local tok = tonumber(t[1]) * 1000000 + tonumber(t[2]) if last then last = tonumber(last) + 1 if last > tok then tok = last end end local text = string.format('%d', tok) redis.call('SET', KEYS[2], text, 'PX', ARGV[5]) redis.call('SET', KEYS[1], text .. '|' .. ARGV[1], 'PX', ARGV[2]) return tok end end return 0`, 4],
  time_only: [`local t = redis.call('TIME') return 1`, 4],
  time_fmt: [`local t = redis.call('TIME') local token = tonumber(t[1]) * 1000000 + tonumber(t[2]) local text = string.format('%d', token) return token`, 4],
  empty: [`return 1`, 4],
}
for (const [name, [lua, n]] of Object.entries(variants)) r.defineCommand(name, { lua, numberOfKeys: n })
r.defineCommand('rel', { lua: LOCK_RELEASE, numberOfKeys: 3 })
const N = 30000
const res = {}
for (let rep = 0; rep < 4; rep++) for (const name of Object.keys(variants)) {
  for (let w = 0; w < 2; w++) {
    if (w === 1) await r.config('RESETSTAT')
    const ps = []
    for (let i = 0; i < N; i++) {
      const k = `{k${i % 50}}`
      ps.push(r[name](`${k}:holder`, `${k}:fence`, `${k}:queue`, `${k}:alive`, `o${i}`, 10000, '', 1000, '2592000000'))
      ps.push(r.del(`${k}:holder`))
      if (ps.length > 100) { await Promise.all(ps); ps.length = 0 }
    }
    await Promise.all(ps)
  }
  const line = (await r.info('commandstats')).split('\n').find(l => l.startsWith('cmdstat_evalsha'))
  ;(res[name] ??= []).push(Number(line.match(/usec_per_call=([\d.]+)/)[1]))
}
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(16), v.sort((a, b) => a - b).join(' '))
r.disconnect(); await server.stop()
