// One benchmark server per process, so the contenders never share an event loop.
import Fastify from 'fastify'

const [variant, url] = process.argv.slice(2)
const app = Fastify({ logger: false })

let client
if (variant === 'redkit') {
  const { redkit } = await import('../dist/index.js')
  await app.register(redkit, { url, env: {} })
  client = app.redkit.client
} else if (variant === 'fastify-redis') {
  const { default: fastifyRedis } = await import('@fastify/redis')
  await app.register(fastifyRedis, { url })
  client = app.redis
} else if (variant === 'no-redis') {
  // The ceiling: the same route answering from memory, with no Redis call at all.
  const value = await fetchSeed(url)
  client = { get: async () => value }
} else {
  // What a performance-minded user writes by hand: one ioredis client with auto-pipelining.
  const { Redis } = await import('ioredis')
  client = new Redis(url, { enableAutoPipelining: true })
  app.addHook('onClose', async () => { client.disconnect() })
}

async function fetchSeed (redisUrl) {
  const { Redis } = await import('ioredis')
  const seed = new Redis(redisUrl)
  const value = await seed.get('bench:item')
  seed.disconnect()
  return value
}

app.get('/item', async () => {
  const value = await client.get('bench:item')
  return { value }
})

await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ port: app.server.address().port })
process.on('message', async (msg) => {
  if (msg === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ cpu: user + system })
  } else if (msg === 'stop') {
    await app.close()
    process.exit(0)
  }
})
