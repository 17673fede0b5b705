import Fastify from 'fastify'
import redkit from '@redkit/core'
import locks from '../dist/index.js'
const a = Fastify(); await a.register(redkit, { mode: 'memory', env: {} }); await a.register(locks); await a.ready()
const N = 200000
for (let r = 0; r < 4; r++) {
  const c0 = process.cpuUsage(); const t0 = performance.now()
  await Promise.all(Array.from({ length: 50 }, async (_, s) => { for (let i = 0; i < N / 50; i++) { const l = await a.locks.acquire(`k${s}`, { ttl: 10000 }); await l.release() } }))
  const c = process.cpuUsage(c0)
  console.log('memory µs/pair', ((c.user + c.system) / N).toFixed(2), 'pairs/s', Math.round(N / ((performance.now() - t0) / 1000)))
}
await a.close()
