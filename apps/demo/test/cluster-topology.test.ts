import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startCluster, uniquePrefix, waitFor, type RedisServer } from '@redkit/testing'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import {
  CACHE_KEYS, CHANNEL, Invariants, LOCKS, NAMESPACE, RATE_KEYS, RATE_LIMITS, RATE_WINDOW, SESSIONS, Tally, sessionOf, startLoad
} from './topology-load.js'

const FILLER = 1200
const WORKERS = 8

/** Error replies each kind, summed over the nodes (INFO errorstats). */
async function errorStats (servers: RedisServer[]): Promise<Record<string, number>> {
  const sums: Record<string, number> = {}
  for (const server of servers) {
    const client = server.client()
    for (const match of (await client.info('errorstats')).matchAll(/^errorstat_(\w+):count=(\d+)/gm)) {
      // ERR is ioredis' CLIENT SETINFO on each new connection, unknown to Redis before 7.2.
      if (match[1] !== 'ERR') sums[match[1]!] = (sums[match[1]!] ?? 0) + Number(match[2])
    }
    client.disconnect()
  }
  return sums
}

/** Commands the nodes refused or failed, summed over the nodes (INFO commandstats). */
async function failedCommands (servers: RedisServer[]): Promise<Record<string, number>> {
  const sums: Record<string, number> = {}
  for (const server of servers) {
    const client = server.client()
    for (const match of (await client.info('commandstats')).matchAll(/^cmdstat_([\w|]+):.*rejected_calls=(\d+),failed_calls=(\d+)/gm)) {
      const n = Number(match[2]) + Number(match[3])
      if (n > 0) sums[match[1]!] = (sums[match[1]!] ?? 0) + n
    }
    client.disconnect()
  }
  return sums
}

interface Received { seqs: Map<number, Set<number>>, missed: Map<number, number> }

test('two demo apps under a mixed load while the Cluster moves their slots and fails over a master', async (t) => {
  const cluster = await startCluster({ replicasPerMaster: 1 })
  t.teardown(cluster.stop)
  const prefix = uniquePrefix('topo')
  const config = loadConfig({ SESSION_SECRET: 'topology-secret-topology-secret-0123456', ADMIN_TOKEN: 'topology-admin-token' })
  const apps: FastifyInstance[] = []
  // Core's defaults: the slow slot stays half-moved for longer than the 1 s command deadline, so a multi-key
  // script on it cannot wait the move out; the cache writes its entries one key at a time meanwhile.
  for (let i = 0; i < 2; i++) {
    const app = await buildApp(config, { redis: { clusterNodes: cluster.nodeList, keyPrefix: prefix, env: {} }, logger: false })
    apps.push(app)
  }
  t.teardown(async () => { for (const app of apps) await app.close() })
  await Promise.all(apps.map(async (app) => await app.ready()))

  // Pub/sub: each app receives every app's messages; sequence numbers per publisher, gaps as reported.
  const byInstance = new Map(apps.map((app, i) => [app.redkit.instanceId, i]))
  const received: Received[] = apps.map(() => ({ seqs: new Map(), missed: new Map() }))
  for (const [s, app] of apps.entries()) {
    await app.pubsub.subscribe(CHANNEL, async (message) => {
      const from = (message.data as { app: number }).app
      const seqs = received[s]!.seqs.get(from) ?? new Set<number>()
      seqs.add(message.seq)
      received[s]!.seqs.set(from, seqs)
    })
    app.pubsub.on('gap', (gap: { publisher: string, missed: number }) => {
      const from = byInstance.get(gap.publisher) ?? -1
      received[s]!.missed.set(from, (received[s]!.missed.get(from) ?? 0) + gap.missed)
    })
  }

  // Seed every key the load uses, then find the slots they live in.
  for (const [i, id] of SESSIONS.entries()) await apps[0]!.sessions.store.set(id, sessionOf(i, 0))
  for (const name of LOCKS) await apps[0]!.locks.withLock(name, async () => {})
  for (const key of RATE_KEYS) {
    for (const algorithm of ['fixed', 'sliding'] as const) await apps[0]!.limiter.check(key, { limit: RATE_LIMITS.get(key)!, window: RATE_WINDOW, algorithm })
  }
  const invariants = new Invariants()
  for (const key of RATE_KEYS) {
    for (const a of ['fixed', 'sliding']) {
      invariants.checks.set(`${key}:${a}`, 1)
      invariants.allowed.set(`${key}:${a}`, 1)
    }
  }
  const cache = apps[0]!.cache.ns(NAMESPACE)
  for (const key of CACHE_KEYS) await cache.set(key, { v: 0 }, { ttl: 60_000, tags: [`tag-${key}`] })
  const slots = new Set<number>()
  for (const node of (await cluster.topology()).filter((n) => n.role === 'master')) {
    const client = node.server.client()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) slots.add(await cluster.keySlot(key))
    } while (cursor !== '0')
    client.disconnect()
  }
  slots.add(await cluster.keySlot(apps[0]!.redkit.key('ps', CHANNEL)))
  // The slow move: the cache namespace's slot, with enough entries that half of them take a while to move.
  const slow = await cluster.keySlot(`{${NAMESPACE}}`)
  for (let i = 0; i < FILLER; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, j) => await cache.set(`filler-${i + j}`, i + j, { ttl: 120_000, tags: ['filler'] })))
  }
  t.ok(slots.has(slow), `the cache namespace's slot ${slow} is among the ${slots.size} slots of the load`)

  // Redirections and TRYAGAIN answered by the nodes, counted from here on.
  for (const server of cluster.servers) {
    const client = server.client()
    await client.config('RESETSTAT')
    client.disconnect()
  }
  const tally = new Tally()
  const load = startLoad(apps, tally, invariants, WORKERS)
  await sleep(1500)

  // (a) Every slot of the load moves to one master; the slow one is held half-moved.
  tally.phase = 'moving'
  const target: RedisServer = await cluster.otherMaster(slow)
  let movedKeys = 0
  for (const slot of slots) {
    if (slot === slow || await cluster.ownerOf(slot) === target) continue
    movedKeys += await cluster.moveSlot(slot, target)
  }
  await cluster.startSlotMove(slow, target)
  let slowKeys = await cluster.migrateSlotKeys(slow, target, 50, FILLER / 2)
  tally.phase = 'half-moved'
  await sleep(1500)
  tally.phase = 'finishing'
  slowKeys += await cluster.migrateSlotKeys(slow, target, 50)
  await cluster.finishSlotMove(slow, target)
  t.ok(slowKeys >= 1000, `the slow slot ${slow} moved ${slowKeys} keys; ${movedKeys} keys in ${slots.size - 1} other slots`)
  tally.phase = 'moved'
  await sleep(1500)

  // (b) The master now serving every slot of the load fails over to its replica.
  tally.phase = 'failover'
  const promoted = await cluster.failover(target)
  tally.phase = 'after'
  await sleep(2000)
  await load.stop()

  // Last messages from each publisher, so losses at the end show up as gaps too. A gap is seen
  // only when a later message arrives, and a subscriber may still be coming back from the
  // failover: publish again until every app has the newest message of every publisher.
  const newestArrived = (): boolean => received.every((r) => apps.every((_, p) => r.seqs.get(p)?.has(invariants.published[p]!) === true))
  for (let round = 0; round < 10 && (round === 0 || !newestArrived()); round++) {
    for (const [a, app] of apps.entries()) {
      invariants.published[a]!++
      await app.pubsub.publish(CHANNEL, { app: a, n: -1 })
    }
    await waitFor(newestArrived, 2000, 'the last messages').catch(() => {})
  }

  t.comment(`slots of the load: ${[...slots].join(', ')}; moved to port ${target.port}, then failed over to port ${promoted.port}`)
  for (const line of tally.lines()) t.comment(line)
  // The cache fails open: a Redis error in get/set/wrap/invalidate is counted in its stats, not thrown.
  const cacheStats = apps.map((app) => app.cache.stats().namespaces[NAMESPACE]!)
  const swallowed = cacheStats.reduce((sum, s) => sum + s.errors, 0)
  const lockTimeouts = cacheStats.reduce((sum, s) => sum + s.lockTimeouts, 0)
  t.comment(`cache (fail-open) Redis errors counted in stats: ${swallowed}; fill-lock waits given up: ${lockTimeouts}`)
  t.comment('calls in flight per phase:')
  for (const line of tally.phaseLines()) t.comment(line)
  const redirections = await errorStats(cluster.servers)
  t.comment(`error replies of the nodes: ${Object.entries(redirections).map(([e, n]) => `${e}=${n}`).join(' ')}`)
  t.comment(`commands refused or failed: ${Object.entries(await failedCommands(cluster.servers)).map(([e, n]) => `${e}=${n}`).join(' ')}`)
  for (const line of tally.failures()) t.comment(`failure: ${line}`)

  t.ok(tally.callsIn('half-moved', 'cache.') > 0, 'cache calls ran while the slow slot was half-moved')
  t.ok(tally.callsIn('failover') > 0, 'calls ran during the failover')
  t.ok((redirections.ASK ?? 0) + (redirections.TRYAGAIN ?? 0) > 0 && (redirections.MOVED ?? 0) > 0,
    'the load met the moves: the nodes answered ASK or TRYAGAIN, and MOVED')

  // Every operation succeeded: the Cluster's changes are retried within the command deadline.
  for (const [op, count] of tally.ops) t.same(count.errors, {}, `${op}: no failures in ${count.calls} calls`)
  t.equal(swallowed, 0, 'no cache call met a Redis error it would have hidden')
  t.equal(lockTimeouts, 0, 'no cache fill waited out another caller\'s fill lock')

  t.same(invariants.overlaps, [], 'no two holders of one lock at once')
  t.same(invariants.tokenRegressions, [], 'fencing tokens rise with each holder')
  for (const name of LOCKS) {
    const successes = invariants.lockSuccesses.get(name) ?? 0
    t.equal(invariants.counters.get(name) ?? 0, successes, `lock ${name}: the counter equals the successful withLock calls (${successes})`)
  }
  for (const [key, checks] of invariants.checks) {
    const limit = RATE_LIMITS.get(key.split(':')[0]!)!
    // Exactly the first `limit` checks pass: none over the limit, and no retried check counted twice.
    t.equal(invariants.allowed.get(key) ?? 0, Math.min(limit, checks), `${key}: ${invariants.allowed.get(key) ?? 0} of ${checks} checks allowed, limit ${limit}`)
  }
  t.same(invariants.staleReads, [], 'no cache read returned a value older than an invalidate or set that had resolved')
  t.same(invariants.sessionStale, [], 'every session read returned the last acknowledged write or a later one')

  for (const [s] of apps.entries()) {
    for (const [p] of apps.entries()) {
      const last = invariants.published[p]!
      await waitFor(async () => received[s]!.seqs.get(p)?.has(last) === true, 10_000, `app ${s} to receive app ${p}'s last message`)
        .catch(() => {})
      const seqs = received[s]!.seqs.get(p) ?? new Set<number>()
      const got = [...seqs].filter((q) => q <= last).length
      for (let q = 1; q < last; q++) {
        if (!seqs.has(q)) t.comment(`app ${s} did not receive app ${p}'s message ${q}: ${invariants.publishes[p]!.get(q) ?? 'not recorded'}`)
      }
      const missed = received[s]!.missed.get(p) ?? 0
      t.equal(last - got, missed, `app ${s} from app ${p}: ${last} published, ${got} received, ${missed} reported as gaps`)
    }
  }
})
