import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { escapeGlob, backoff } from '../src/index.js'
import { WRITE_BATCH } from '../src/writes.js'
import { buildApp, spyWrites } from './helpers.js'

test('key, hashTag and escapeGlob', async (t) => {
  const { app } = await buildApp(t, { keyPrefix: 'shop:' })
  t.equal(app.redkit.key('sess', 'abc'), 'shop:sess:abc')
  t.equal(app.redkit.hashTag('a{b}c'), '{a_b_c}')
  t.equal(escapeGlob('a*b?c[d]e\\f'), 'a\\*b\\?c\\[d\\]e\\\\f')
})

test('scan matches user text literally', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const prefix = uniquePrefix('scan')
  const { app } = await buildApp(t, { url: server.url, keyPrefix: prefix })
  const names = ['a*x', 'abc', '[a]', 'a?', 'a\\b']
  for (const name of names) await app.redkit.client!.set(app.redkit.key(name), '1', 'PX', 60_000)
  const find = async (text: string): Promise<string[]> => {
    const out: string[] = []
    for await (const key of app.redkit.scan(app.redkit.escapeGlob(app.redkit.key(text)) + '*')) out.push(key.slice(prefix.length))
    return out.sort()
  }
  t.same(await find('a*'), ['a*x'])
  t.same(await find('[a]'), ['[a]'])
  t.same(await find('a?'), ['a?'])
  t.same(await find('a\\'), ['a\\b'])
  t.same((await find('a')).length, 4)
})

test('defineScript survives SCRIPT FLUSH and a restart', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const incr = app.redkit.defineScript<number>('redkitTestIncr', `
    local n = redis.call('INCR', KEYS[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    return n`, 1)
  const key = app.redkit.key('n')
  t.equal(await incr([key], [60_000]), 1)
  await app.redkit.client!.script('FLUSH')
  t.equal(await incr([key], [60_000]), 2, 'reloaded after NOSCRIPT')
  await server.restart()
  await app.redkit.client!.ping()
  t.equal(await incr([key], [60_000]), 1, 'works on a fresh server')
  t.ok(await app.redkit.client!.pttl(key) > 0, 'the script set a TTL')
})

test('defineScript without a key count takes any number of keys per call', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const count = app.redkit.defineScript<[number, string]>('redkitTestCount', 'return { #KEYS, ARGV[1] }')
  t.same(await count([app.redkit.key('a')], ['x']), [1, 'x'])
  t.same(await count([app.redkit.key('a'), app.redkit.key('b'), app.redkit.key('c')], ['y']), [3, 'y'])
  t.same(await count([], ['z']), [0, 'z'])
})

test('health, stats and duplicate', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const health = await app.redkit.health()
  t.equal(health.status, 'ok')
  t.equal(health.mode, 'redis')
  t.type(health.latencyMs, 'number')
  const before = app.redkit.stats().commands
  await app.redkit.client!.ping()
  t.ok(app.redkit.stats().commands > before, 'commands are counted')
  t.match(app.redkit.stats(), { mode: 'redis', status: 'ready', errors: 0 })

  const sub = app.redkit.duplicate()
  await new Promise<void>((resolve) => sub.once('ready', () => resolve()))
  t.equal(await sub.ping(), 'PONG')
  await app.close()
  t.equal(sub.status, 'end', 'duplicates are closed with the app')
})

test('duplicate takes a deadline and ioredis overrides', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, commandTimeout: 200, keyPrefix: uniquePrefix() })
  const blocking = app.redkit.duplicate({ commandTimeout: 2000, overrides: { connectionName: 'redkit-reader' } })
  const started = Date.now()
  t.equal(await blocking.call('BLPOP', app.redkit.key('empty'), '0.5'), null, 'a 500 ms blocking read outlives the app deadline of 200 ms')
  t.ok(Date.now() - started >= 450)
  t.equal(await blocking.client('GETNAME'), 'redkit-reader')
  await t.rejects(app.redkit.client!.call('BLPOP', app.redkit.key('empty'), '0.5'), { code: 'FST_REDKIT_COMMAND_TIMEOUT' }, 'the app client keeps its own deadline')
})

test('close waits for pending replies', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const pending = Array.from({ length: 100 }, async (_, i) => await app.redkit.client!.set(app.redkit.key('p', i), 'v', 'PX', 60_000))
  await app.close()
  const results = await Promise.allSettled(pending)
  t.ok(results.every((r) => r.status === 'fulfilled'), 'every command sent before close got its reply')
})

test('commands sent from separate callbacks of one turn share socket writes', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const redis = app.redkit.client as import('ioredis').Redis
  await redis.ping()
  const writes = spyWrites(redis)
  const key = app.redkit.key('cb')
  // Timers due together run as separate callbacks of one turn, with a tick
  // between each, as the requests an HTTP server reads in one turn do.
  const pending = Array.from({ length: 10 }, async () =>
    await new Promise((resolve, reject) => setTimeout(() => { redis.incr(key).then(resolve, reject) }, 1)))
  // On a busy machine the loop above can span a millisecond, and the timers it made would
  // fall due in two turns; once every one is due, one turn runs them all.
  const dueAt = performance.now() + 5
  while (performance.now() < dueAt) { /* wait until every timer is due */ }
  const replies = await Promise.all(pending)
  t.same([...replies].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 10 }, (_, i) => i + 1), 'each command got its own reply')
  t.equal(writes.length, 1, `10 commands from 10 callbacks in ${writes.length} writes`)
  await redis.pexpire(key, 60_000)
})

test('backoff is capped and jittered', async (t) => {
  const values = Array.from({ length: 200 }, (_, i) => backoff(i % 30))
  t.ok(values.every((v) => v >= 25 && v <= 2000), 'between half the base and the cap')
  t.ok(new Set(values.filter((_, i) => i % 30 === 20)).size > 1, 'jittered')
})

test('commands sent in one turn leave in few socket writes, each with its own reply', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix() })
  const redis = app.redkit.client as import('ioredis').Redis
  await redis.ping()
  const writes = spyWrites(redis)
  const key = app.redkit.key('n')
  const replies = await Promise.all([
    redis.set(key, '0', 'PX', 60_000),
    ...Array.from({ length: 200 }, async () => await redis.incr(key)),
    redis.multi().incr(key).pexpire(key, 60_000).exec(),
    redis.get(key)
  ])
  // SET, 200 INCR, MULTI/INCR/PEXPIRE/EXEC and GET: 206 commands, in pieces of 16, 32… WRITE_BATCH
  // (writes.test.ts checks the pieces one by one).
  const most = Math.log2(WRITE_BATCH) + Math.ceil(206 / WRITE_BATCH) + 1
  t.ok(writes.length <= most, `206 commands in ${writes.length} writes`)
  t.same(replies.slice(1, 201), Array.from({ length: 200 }, (_, i) => i + 1), 'replies in order')
  t.same(replies[201], [[null, 201], [null, 1]])
  t.equal(replies[202], '201')
  // A command of a later turn is not held back by the previous turn's batch.
  await new Promise((resolve) => setImmediate(resolve))
  const first = writes.length
  t.equal(await redis.incr(key), 202)
  t.equal(writes.length, first + 1)
})
