import { test } from 'tap'
import { startCluster, uniquePrefix } from '@redkit/testing'
import { isSlotMigrating, isUnavailableError } from '../src/index.js'
import { buildApp } from './helpers.js'

// Writes both declared keys: with neither present in a migrating slot, the
// owner answers ASK and the importing master TRYAGAIN, until the move ends.
const SET_PAIR = "redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) redis.call('SET', KEYS[2], ARGV[1], 'PX', 60000) return 2"

test('Cluster: a script defined with failWhileMigrating fails at the first TRYAGAIN, and single-key writes still go through', async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, commandTimeout: 10_000, keyPrefix: uniquePrefix('migr') })
  const tag = app.redkit.hashTag(`slot-${Math.random()}`)
  const keys = [app.redkit.key(tag, 'a'), app.redkit.key(tag, 'b')]
  const slot = await cluster.keySlot(keys[0]!)
  const target = await cluster.otherMaster(slot)
  const setPair = app.redkit.defineScript<number>('setPairFailFast', SET_PAIR, 2, { failWhileMigrating: true })
  t.equal(await setPair([app.redkit.key('{warm}a'), app.redkit.key('{warm}b')], ['0']), 2, 'runs on a stable slot')
  await cluster.startSlotMove(slot, target)
  t.teardown(async () => await cluster.cancelSlotMove(slot).catch(() => {}))

  const err = await setPair(keys, ['v']).then(() => undefined, (e: Error & { code?: string }) => e)
  t.equal(err?.code, 'FST_REDKIT_UNAVAILABLE', `coded: ${err?.message}`)
  t.equal(isSlotMigrating(err), true, 'isSlotMigrating')
  t.equal(isUnavailableError(err), true, 'still an unavailable error for callers that only know that')
  t.match(err?.message ?? '', /being migrated/, 'failed at the TRYAGAIN, not at the 10 s deadline')
  t.equal(app.redkit.stats().timeouts, 0)

  const client = app.redkit.client!
  t.equal(await client.set(keys[0]!, 'one', 'PX', 60_000), 'OK', 'a single-key write is redirected (ASK) and served')
  t.equal(await client.get(keys[0]!), 'one')
  const direct = target.client()
  await direct.call('ASKING')
  t.equal(await direct.get(keys[0]!), 'one', 'on the importing master')

  t.equal(isSlotMigrating(new Error('CLUSTERDOWN The cluster is down')), false)
  t.equal(isSlotMigrating(undefined), false)
})
