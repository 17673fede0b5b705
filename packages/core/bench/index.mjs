// A route doing one GET through app.redkit.client, on @redkit/core and on @fastify/redis,
// measured in alternating rounds in one run.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { startRedis } from '@redkit/testing'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = 50

const server = await startRedis({ local: true })
const seed = server.client()
await seed.set('bench:item', JSON.stringify({ id: 1, name: 'widget', tags: ['a', 'b'] }))

async function start (variant) {
  const child = fork(new URL('./server.mjs', import.meta.url), [variant, server.url])
  const [msg] = await once(child, 'message')
  return { child, url: `http://127.0.0.1:${msg.port}/item` }
}

function load (url) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION }, (err, result) => {
      if (err) reject(err)
      else resolve(result)
    })
  })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const contenders = { redkit: await start('redkit'), '@fastify/redis': await start('fastify-redis') }
const results = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))

for (const { url } of Object.values(contenders)) await load(url) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, { url }] of Object.entries(contenders)) {
    const r = await load(url)
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
    results[name].push(r.requests.average)
  }
}

console.log(`GET route, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION}s (median req/s):`)
for (const [name, xs] of Object.entries(results)) {
  console.log(`  ${name.padEnd(16)} ${Math.round(median(xs)).toString().padStart(7)} req/s  rounds: ${xs.map(Math.round).join(', ')}`)
}
const ratio = median(results.redkit) / median(results['@fastify/redis'])
console.log(`ratio redkit / @fastify/redis: ${ratio.toFixed(3)}`)

for (const { child } of Object.values(contenders)) child.send('stop')
await Promise.all(Object.values(contenders).map(({ child }) => once(child, 'exit')))
await server.stop()
