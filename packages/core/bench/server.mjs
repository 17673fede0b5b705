// One benchmark server per process, so the two contenders never share an event loop.
import Fastify from 'fastify'

const [variant, url] = process.argv.slice(2)
const app = Fastify({ logger: false })

if (variant === 'redkit') {
  const { redkit } = await import('../dist/index.js')
  await app.register(redkit, { url, env: {} })
} else {
  const { default: fastifyRedis } = await import('@fastify/redis')
  await app.register(fastifyRedis, { url })
}

app.get('/item', async () => {
  const value = await app.redkit.client.get('bench:item')
  return { value }
})

await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ port: app.server.address().port })
process.on('message', async (msg) => {
  if (msg === 'stop') {
    await app.close()
    process.exit(0)
  }
})
