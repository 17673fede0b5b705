import { test } from 'tap'
import Fastify from 'fastify'
import { freePort, logCapture, startRedis } from '@redkit/testing'
import { redkit } from '../src/index.js'
import { buildApp } from './helpers.js'

const PASSWORD = 'Sup3r-secret pa$$ word'

test('URL forms against real servers', async (t) => {
  const server = await startRedis({
    local: true,
    password: PASSWORD,
    users: [{ name: 'app', password: 'app-secret', rules: '~* &* +@all' }]
  })
  t.teardown(server.stop)
  const encoded = encodeURIComponent(PASSWORD)

  for (const [label, url, user] of [
    ['password only', `redis://:${encoded}@127.0.0.1:${server.port}`, 'default'],
    ['ACL user', `redis://app:app-secret@127.0.0.1:${server.port}`, 'app'],
    ['ACL user and db', `redis://app:app-secret@127.0.0.1:${server.port}/5`, 'app']
  ] as const) {
    const { app, logs } = await buildApp(t, { url })
    t.equal(app.redkit.mode, 'redis', label)
    t.equal(await app.redkit.client!.call('ACL', 'WHOAMI'), user, `${label}: authenticated as ${user}`)
    const clientInfo = await app.redkit.client!.client('INFO') as string
    t.match(clientInfo, url.endsWith('/5') ? /db=5/ : /db=0/, `${label}: database selected`)
    t.ok(logs.lines.some((l) => l.includes('redkit: connected to Redis')), `${label}: connect is logged`)
    await app.close()
  }

  const { app } = await buildApp(t, { url: `redis://app:wrong@127.0.0.1:${server.port}`, fallback: 'fail', connectTimeout: 1000 })
    .catch((err: Error & { code?: string }) => ({ app: null, err }))
    .then((r) => r as { app: null, err?: Error & { code?: string } })
  t.equal(app, null)
})

test('wrong password fails register with a coded error and no secret', async (t) => {
  const server = await startRedis({ password: PASSWORD })
  t.teardown(server.stop)
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'debug', stream: logs.stream } })
  app.register(redkit, { url: `redis://:wrong-${encodeURIComponent('hunter2')}@127.0.0.1:${server.port}`, fallback: 'fail', connectTimeout: 1000, env: {} })
  const err = await app.ready().then(() => null, (e: Error & { code?: string }) => e)
  t.equal(err?.code, 'FST_REDKIT_CONNECT_FAILED')
  t.notMatch(err?.message ?? '', /hunter2/)
  t.notOk(logs.lines.some((l) => l.includes('hunter2')), 'no log line holds the password')
  await app.close()
})

test('TLS: verified with the right CA, refused with a wrong one', async (t) => {
  const server = await startRedis({ tls: true })
  t.teardown(server.stop)
  const tls = server.tls!
  const url = `rediss://localhost:${server.port}`

  const { app } = await buildApp(t, { env: { REDIS_URL: url, REDIS_TLS_CA_PATH: tls.caPath } })
  t.equal(app.redkit.mode, 'redis')
  t.equal(await app.redkit.client!.ping(), 'PONG')

  const wrong = Fastify({ logger: false })
  wrong.register(redkit, { env: { REDIS_URL: url, REDIS_TLS_CA_PATH: tls.wrongCaPath }, fallback: 'fail', connectTimeout: 1500 })
  await t.rejects(async () => { await wrong.ready() }, { code: 'FST_REDKIT_CONNECT_FAILED' }, 'an unknown CA is refused by default')
  await wrong.close()

  const noCa = Fastify({ logger: false })
  noCa.register(redkit, { url, fallback: 'fail', connectTimeout: 1500, env: {} })
  await t.rejects(async () => { await noCa.ready() }, { code: 'FST_REDKIT_CONNECT_FAILED' }, 'a self-signed chain is refused without a CA')
  await noCa.close()

  const insecure = await buildApp(t, { env: { REDIS_URL: url, REDIS_TLS_REJECT_UNAUTHORIZED: 'false' } })
  t.equal(await insecure.app.redkit.client!.ping(), 'PONG', 'verification can be turned off explicitly')
})

test('env precedence against real servers', async (t) => {
  const a = await startRedis({ local: true })
  const b = await startRedis({ local: true })
  t.teardown(a.stop)
  t.teardown(b.stop)
  const port = async (app: Awaited<ReturnType<typeof buildApp>>['app']): Promise<number> =>
    Number(/tcp_port:(\d+)/.exec(await app.redkit.client!.info('server') as string)?.[1])

  const env = { REDIS_URL: `redis://127.0.0.1:${a.port}`, REDIS_HOST: '127.0.0.1', REDIS_PORT: String(b.port) }
  t.equal(await port((await buildApp(t, { env })).app), a.port, 'REDIS_URL beats REDIS_HOST/PORT')
  t.equal(await port((await buildApp(t, { env: { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(b.port), REDIS_DB: '3' } })).app), b.port, 'REDIS_HOST/PORT')
  t.equal(await port((await buildApp(t, { url: `redis://127.0.0.1:${b.port}`, env })).app), b.port, 'options beat env')
})

test('no configuration: memory mode with one log line', async (t) => {
  const { app, logs } = await buildApp(t, {})
  t.equal(app.redkit.mode, 'memory')
  t.equal(app.redkit.client, null)
  t.same(await app.redkit.health(), { status: 'ok', mode: 'memory', latencyMs: 0 })
  const notes = logs.lines.filter((l) => l.includes('in-memory backend'))
  t.equal(notes.length, 1)
  t.throws(() => app.redkit.duplicate(), { code: 'FST_REDKIT_MEMORY_MODE' })
  t.throws(() => app.redkit.defineScript('x', 'return 1', 0), { code: 'FST_REDKIT_MEMORY_MODE' })
})

test('unreachable at startup: fallback memory warns, fallback fail rejects within the timeout', async (t) => {
  const port = await freePort()
  const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`

  const started = Date.now()
  const { app, logs } = await buildApp(t, { url, fallback: 'memory', connectTimeout: 800 })
  t.equal(app.redkit.mode, 'memory')
  t.ok(Date.now() - started < 800 + 1500, 'fallback happens near the connect timeout')
  t.ok(logs.lines.some((l) => l.includes('falling back to the in-memory backend')))
  t.notOk(logs.lines.some((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD))), 'no password in logs')

  const failing = Fastify({ logger: false })
  failing.register(redkit, { url, connectTimeout: 800, env: { NODE_ENV: 'production' } })
  const before = Date.now()
  const err = await failing.ready().then(() => null, (e: Error & { code?: string }) => e)
  const elapsed = Date.now() - before
  t.equal(err?.code, 'FST_REDKIT_CONNECT_FAILED', 'production defaults to fail')
  t.ok(elapsed < 800 + 1000, `rejected within the connect timeout (${elapsed} ms)`)
  t.notMatch(err?.message ?? '', new RegExp(PASSWORD.replace(/\$/g, '\\$')))
  t.match(err?.message ?? '', /redis:\/\/127\.0\.0\.1/)
  await failing.close()
})

test('a provided client is used and closed only with closeClient', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const client = server.client()
  const { app } = await buildApp(t, { client })
  t.equal(app.redkit.client, client)
  await app.close()
  t.equal(client.status, 'ready', 'not closed by default')

  const owned = server.client()
  const second = await buildApp(t, { client: owned, closeClient: true })
  await second.app.close()
  t.equal(owned.status, 'end', 'closed with closeClient: true')
})
