import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCluster, uniquePrefix, waitFor } from '@redkit/testing'
import { Cluster } from 'ioredis'
import { classifyError, isUnavailableError, toRedkitError } from '../src/index.js'
import { buildApp } from './helpers.js'

// Writes both declared keys: with neither present in a migrating slot, the
// owner answers ASK and the importing master TRYAGAIN, until the move ends.
const SET_BOTH = "redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) redis.call('SET', KEYS[2], ARGV[1], 'PX', 60000) return 1"

interface Settled<T> { done: boolean, value?: T, err?: Error & { code?: string, cause?: Error } }

function watchCall<T> (promise: Promise<T>): Settled<T> & { promise: Promise<void> } {
  const state: Settled<T> & { promise: Promise<void> } = { done: false, promise: Promise.resolve() }
  state.promise = promise.then((value) => { state.value = value }, (err) => { state.err = err }).finally(() => { state.done = true })
  return state
}

/** A Cluster of the test's own with one slot mid-move, and an app whose two keys hash to that slot. */
async function migratingApp (t: { teardown: (fn: () => unknown) => void }, commandTimeout: number) {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, commandTimeout, keyPrefix: uniquePrefix('mig') })
  const tag = app.redkit.hashTag(`slot-${Math.random()}`)
  const keys = [app.redkit.key(tag, 'a'), app.redkit.key(tag, 'b')]
  const slot = await cluster.keySlot(keys[0]!)
  const owner = await cluster.ownerOf(slot)
  const target = await cluster.otherMaster(slot)
  const setBoth = app.redkit.defineScript<number>('setBoth', SET_BOTH, 2)
  await setBoth([app.redkit.key('warm{x}a'), app.redkit.key('warm{x}b')], ['0']) // loads the script
  await cluster.startSlotMove(slot, target)
  t.teardown(async () => await cluster.cancelSlotMove(slot).catch(() => {}))
  return { cluster, app, keys, slot, owner, target, setBoth }
}

test('Cluster: a script on a migrating slot keeps retrying past ioredis\' redirection limit, and succeeds once the move is cancelled', async (t) => {
  const { cluster, keys, slot, owner, setBoth } = await migratingApp(t, 5000)
  const call = watchCall(setBoth(keys, ['v']))
  // ioredis alone gives up after 16 redirections, about half a second here.
  await sleep(1500)
  t.equal(call.done, false, `still retrying after 1.5 s (${call.err?.message ?? 'pending'})`)
  await cluster.cancelSlotMove(slot)
  await call.promise
  t.equal(call.err, undefined, 'no error')
  t.equal(call.value, 1, 'the script ran')
  t.equal(await owner.client().get(keys[0]!), 'v', 'on the owner, which kept the slot')
})

test('Cluster: a script on a migrating slot succeeds on the new owner once the move completes', async (t) => {
  const { cluster, keys, slot, target, setBoth } = await migratingApp(t, 5000)
  const call = watchCall(setBoth(keys, ['w']))
  await sleep(1000)
  t.equal(call.done, false, 'still retrying')
  await cluster.migrateSlotKeys(slot, target)
  await cluster.finishSlotMove(slot, target)
  await call.promise
  t.equal(call.value, 1, `the script ran (${call.err?.message ?? 'no error'})`)
  t.equal(await target.client().get(keys[1]!), 'w', 'on the new owner')
})

test('Cluster: a slot that stays unstable fails with the coded unavailable error at the deadline, and is not run later', async (t) => {
  const deadline = 1200
  const { cluster, app, keys, slot, owner, setBoth } = await migratingApp(t, deadline)
  const started = performance.now()
  const call = watchCall(setBoth(keys, ['late']))
  await call.promise
  const ms = performance.now() - started
  t.equal(call.err?.code, 'FST_REDKIT_UNAVAILABLE', `coded error: ${call.err?.message}`)
  // A round is MOVED, ASK, TRYAGAIN: the deadline may fall at any step of it.
  t.match(call.err?.cause?.message ?? '', /^(TRYAGAIN|ASK|MOVED) /, `the cause is the last redirection: ${call.err?.cause?.message}`)
  t.ok(ms >= deadline - 50 && ms < deadline + 500, `failed at the deadline (${Math.round(ms)} ms)`)
  t.ok(isUnavailableError(call.err), 'isUnavailableError')
  await cluster.cancelSlotMove(slot)
  await sleep(300)
  t.equal(await owner.client().exists(keys[0]!, keys[1]!), 0, 'the failed call was not sent again after the deadline')
  t.equal(await setBoth(keys, ['now']), 1, 'later calls work')
  t.equal(app.redkit.stats().timeouts, 0, 'not counted as a timeout: the Cluster answered')
})

test('Cluster: reply errors of a script bug get their own code', async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, keyPrefix: uniquePrefix('xs') })
  const client = app.redkit.client!
  const a = app.redkit.key('{one}a')
  const b = app.redkit.key('{two}b')
  t.not(await cluster.keySlot(a), await cluster.keySlot(b))

  const crossSlot = await client.mget(a, b).catch((err: Error & { code?: string }) => err)
  t.equal((crossSlot as { code?: string }).code, 'FST_REDKIT_CROSS_SLOT', `CROSSSLOT: ${(crossSlot as Error).message}`)

  const undeclared = app.redkit.defineScript('touchUndeclared', "return redis.call('GET', ARGV[1])", 1)
  const nonLocal = await undeclared([a], [b]).catch((err: Error & { code?: string }) => err)
  t.equal((nonLocal as { code?: string }).code, 'FST_REDKIT_CROSS_SLOT', `non local key: ${(nonLocal as Error).message}`)
  t.equal(isUnavailableError(nonLocal), false, 'a script bug is not "unavailable": retrying never helps')

  const wrongType = await client.hget(a, 'f').then(async () => await client.set(a, 'x', 'PX', 1000)).then(async () => await client.hget(a, 'f')).catch((err: Error) => err)
  t.match((wrongType as Error).message, /WRONGTYPE/, 'other reply errors pass as they are')
  t.equal((wrongType as { code?: string }).code, undefined)
})

test('Cluster: CLUSTERDOWN is retried until the deadline, then fails as unavailable', async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, commandTimeout: 800, keyPrefix: uniquePrefix('down') })
  const key = app.redkit.key('down')
  const slot = await cluster.keySlot(key)
  const owner = await cluster.ownerOf(slot)
  await app.redkit.client!.set(key, '1', 'PX', 60_000)
  // Without an owner for the slot the cluster is down (cluster-require-full-coverage).
  for (const node of (await cluster.topology()).filter((n) => n.role === 'master')) {
    await node.server.client().cluster('DELSLOTS', slot).catch(() => {})
  }
  const err = await app.redkit.client!.get(key).catch((e: Error & { code?: string, cause?: Error }) => e) as Error & { code?: string, cause?: Error }
  t.equal(err.code, 'FST_REDKIT_UNAVAILABLE', err.message)
  t.match(err.cause?.message ?? '', /CLUSTERDOWN/, 'the cause is CLUSTERDOWN')
  await owner.client().cluster('ADDSLOTS', slot)
  await waitFor(async () => await app.redkit.client!.get(key).catch(() => null) === '1', 10_000, 'the slot to be served again')
  t.pass('served again once the slot has an owner')
  t.equal(app.redkit.stats().timeouts, 0, 'CLUSTERDOWN is not a timeout')
})

test('the classifier maps raw ioredis Cluster errors to codes, for clients redkit does not wrap', async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  // A client passed in by the app keeps ioredis' own limits.
  const own = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 }, lazyConnect: true })
  own.on('error', () => {})
  const { app } = await buildApp(t, { client: own, closeClient: true, keyPrefix: uniquePrefix('raw') })
  const tag = app.redkit.hashTag('raw')
  const keys = [app.redkit.key(tag, 'a'), app.redkit.key(tag, 'b')]
  const slot = await cluster.keySlot(keys[0]!)
  await cluster.startSlotMove(slot, await cluster.otherMaster(slot))
  t.teardown(async () => await cluster.cancelSlotMove(slot).catch(() => {}))
  const raw = await own.eval(SET_BOTH, 2, keys[0]!, keys[1]!, 'v').catch((err: Error) => err) as Error
  t.match(raw.message, /Too many Cluster redirections/, 'ioredis gives up on its own')
  t.equal(classifyError(raw), 'unavailable')
  t.equal(isUnavailableError(raw), true)
  t.equal((toRedkitError(raw) as { code?: string }).code, 'FST_REDKIT_UNAVAILABLE')

  const messages: Array<[string, string]> = [
    ['CLUSTERDOWN The cluster is down', 'unavailable'],
    ['CLUSTERDOWN Hash slot not served', 'unavailable'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'unavailable'],
    ['MOVED 3999 127.0.0.1:6381', 'unavailable'],
    ['ASK 3999 127.0.0.1:6381', 'unavailable'],
    ['Connection is closed.', 'unavailable'],
    ['Reached the max retries per request limit (which is 2).', 'unavailable'],
    ['Command timed out', 'timeout'],
    ["CROSSSLOT Keys in request don't hash to the same slot", 'cross-slot'],
    ['ERR Script attempted to access a non local key in a cluster node script: f_1, on @user_script:1.', 'cross-slot'],
    ['Too many Cluster redirections. Last error: ReplyError: CROSSSLOT Keys in request don\'t hash to the same slot', 'cross-slot'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'reply']
  ]
  for (const [message, kind] of messages) t.equal(classifyError(new Error(message)), kind, message)
  const codes = { unavailable: 'FST_REDKIT_UNAVAILABLE', timeout: 'FST_REDKIT_COMMAND_TIMEOUT', 'cross-slot': 'FST_REDKIT_CROSS_SLOT', reply: undefined }
  for (const [message, kind] of messages) {
    t.equal((toRedkitError(new Error(message)) as { code?: string }).code, codes[kind as keyof typeof codes], `code of ${message}`)
  }
})
