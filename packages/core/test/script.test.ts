import { test } from 'tap'
import { Redis } from 'ioredis'
import { startCluster, startRedis, uniquePrefix } from '@redkit/testing'
import { buildApp } from './helpers.js'

const ECHO_KEYS = 'return { KEYS[1], ARGV[1], #KEYS }'

test('a script is loaded by its first call on a connection, and again after SCRIPT FLUSH at the cost of one NOSCRIPT', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const lua = `return '${uniquePrefix('fresh')}'`
  const run = app.redkit.defineScript<string>('redkitTestFresh', lua, 0)
  const sha = (await app.redkit.client!.script('LOAD', lua)) as string
  await app.redkit.client!.script('FLUSH')
  t.same(await app.redkit.client!.script('EXISTS', sha), [0], 'not loaded yet')
  const before = app.redkit.stats().errors
  t.match(await run([]), /fresh/, 'first call runs')
  t.same(await app.redkit.client!.script('EXISTS', sha), [1], 'and loaded it')
  t.equal(await run([]), await run([]), 'later calls run from the cache')
  t.equal(app.redkit.stats().errors - before, 0, 'the first call was an EVAL')
  const commands = app.redkit.stats().commands
  await app.redkit.client!.script('FLUSH')
  t.match(await run([]), /fresh/, 'runs again after a flush')
  t.equal(app.redkit.stats().errors - before, 1, 'one NOSCRIPT')
  t.equal(app.redkit.stats().commands - commands, 3, 'SCRIPT FLUSH, EVALSHA, then EVAL')
})

test('a script keeps its reply errors and argument types', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const fail = app.redkit.defineScript('redkitTestFail', "return redis.error_reply('ERR nope')", 0)
  await t.rejects(fail([]), /ERR nope/)
  const echo = app.redkit.defineScript<[string, string, number]>('redkitTestEcho', ECHO_KEYS, 1)
  t.same(await echo(['k'], [12]), ['k', '12', 1], 'numbers are sent as text')
  t.same(await echo(['k'], [Buffer.from('bytes')]), ['k', 'bytes', 1], 'buffers are sent as they are')
})

test('a provided client\'s ioredis keyPrefix applies to script keys, as with its own commands', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const own = new Redis({ ...server.options(), keyPrefix: 'own:' })
  const { app } = await buildApp(t, { client: own, closeClient: true })
  const echo = app.redkit.defineScript<[string, string, number]>('redkitTestEcho', ECHO_KEYS, 1)
  t.same(await echo(['k'], ['a']), ['own:k', 'a', 1])
  await app.redkit.client!.script('FLUSH')
  t.same(await echo(['k'], ['b']), ['own:k', 'b', 1], 'the EVAL after NOSCRIPT is prefixed once')
})

test('Cluster: scripts route by their keys and reload after SCRIPT FLUSH on every master', async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, keyPrefix: uniquePrefix('script') })
  const incr = app.redkit.defineScript<number>('redkitTestIncr', "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 60000) return n", 1)
  const keys = Array.from({ length: 12 }, (_, i) => app.redkit.key(`n${i}`))
  t.same(await Promise.all(keys.map(async (key) => await incr([key]))), keys.map(() => 1))
  for (const server of cluster.servers) await server.client().script('FLUSH')
  t.same(await Promise.all(keys.map(async (key) => await incr([key]))), keys.map(() => 2), 'each key\'s master loaded it again')
})
