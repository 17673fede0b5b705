import { Redis } from 'ioredis'
import { startRedis } from '@redkit/testing'
import { SLIDING_COUNTER, FIXED_WINDOW } from './dist/lua.js'
const peerLua = `
  local key = KEYS[1]
  local timeWindow = tonumber(ARGV[1])
  local max = tonumber(ARGV[2])
  local continueExceeding = ARGV[3] == 'true'
  local exponentialBackoff = ARGV[4] == 'true'
  local MAX_SAFE_INTEGER = (2^53) - 1
  local current = redis.call('INCR', key)
  if current == 1 or (continueExceeding and current > max) then
    redis.call('PEXPIRE', key, timeWindow)
  else
    timeWindow = redis.call('PTTL', key)
  end
  return {current, timeWindow}
`
const timeOnly = `local t = redis.call('TIME') return {1,2,3,4,5}`
const hmgetOnly = `local t = redis.call('TIME') local v = redis.call('HMGET', KEYS[1], 's', 'p', 'c') return {1,2,3,4,5}`
const hincr = `local t = redis.call('TIME') local v = redis.call('HMGET', KEYS[1], 's', 'p', 'c') redis.call('HINCRBY', KEYS[1], 'c', 1) return {1,2,3,4,5}`
const server = await startRedis({ local: true })
const r = new Redis(server.url)
const std = (k) => [k, 1e9, 60000, 1, 1]
const scripts = { peer: [peerLua, (k) => [k, 60000, 1e9, 'false', 'false']], counter: [SLIDING_COUNTER, std], fixed: [FIXED_WINDOW, std], timeOnly: [timeOnly, std], hmgetOnly: [hmgetOnly, std], hincr: [hincr, std] }
const best = {}
for (let rep = 0; rep < 3; rep++) {
  for (const [name, [lua, args]] of Object.entries(scripts)) {
    const sha = await r.script('LOAD', lua)
    await r.config('RESETSTAT')
    const N = 20000
    for (let b = 0; b < N / 500; b++) {
      const p = r.pipeline()
      for (let i = 0; i < 500; i++) p.evalsha(sha, 1, ...args(`{bench:${name}:${i % 50}}:x`))
      await p.exec()
    }
    const info = await r.info('commandstats')
    const us = Number(/usec_per_call=([\d.]+)/.exec(info.split('\n').find((l) => l.startsWith('cmdstat_evalsha')))[1])
    best[name] = Math.min(best[name] ?? Infinity, us)
  }
}
console.log(best)
r.disconnect(); await server.stop()
