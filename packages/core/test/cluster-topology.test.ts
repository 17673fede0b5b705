import { test } from 'tap'
import { startCluster, uniquePrefix } from '@redkit/testing'
import { buildApp } from './helpers.js'

const HOT_KEYS = 1000
const WORKERS = 16
// Moves a value between two keys of one slot: a 2-key script, TRYAGAIN while they are split.
const SHIFT = "local v = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 600000) redis.call('SET', KEYS[2], v, 'PX', 600000) return v"

type Op = 'get' | 'set' | 'incr' | 'script'
type Counts = Record<Op, { ok: number, errors: Record<string, number> }>

test('Cluster topology: mixed load through a slot move of 1,000 keys and a failover', async (t) => {
  const cluster = await startCluster({ replicasPerMaster: 1 })
  t.teardown(cluster.stop)
  const { app } = await buildApp(t, { clusterNodes: cluster.nodeList, commandTimeout: 3000, keyPrefix: uniquePrefix('topo') })
  const client = app.redkit.client!
  const shift = app.redkit.defineScript<number>('shift', SHIFT, 2)
  const tag = app.redkit.hashTag('hot')
  const hot = (i: number): string => app.redkit.key(tag, i)
  for (let i = 0; i < HOT_KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, j) => await client.set(hot(i + j), 'seed', 'PX', 600_000)))
  }
  const slot = await cluster.keySlot(hot(0))

  const counts: Counts = { get: { ok: 0, errors: {} }, set: { ok: 0, errors: {} }, incr: { ok: 0, errors: {} }, script: { ok: 0, errors: {} } }
  const raw: string[] = []
  const load = { running: true }
  const one = async (op: Op, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run()
      counts[op].ok++
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'uncoded'
      counts[op].errors[code] = (counts[op].errors[code] ?? 0) + 1
      if (code === 'uncoded') raw.push((err as Error).message)
    }
  }
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; load.running; n++) {
      const i = (w * 7919 + n * 31) % HOT_KEYS
      const other = app.redkit.key('spread', (w * 1000 + n) % 500)
      await one('get', async () => await client.get(hot(i)))
      await one('set', async () => await client.set(n % 2 === 0 ? hot(i) : other, `w${w}n${n}`, 'PX', 600_000))
      await one('incr', async () => await client.incr(app.redkit.key(tag, 'counter')))
      await one('script', async () => await shift([app.redkit.key(tag, 'a', w), hot((i + 1) % HOT_KEYS)]))
    }
  }
  const workers = Array.from({ length: WORKERS }, async (_, w) => await worker(w))

  const from = await cluster.ownerOf(slot)
  const to = await cluster.otherMaster(slot)
  await cluster.startSlotMove(slot, to)
  let moved = await cluster.migrateSlotKeys(slot, to, 50, HOT_KEYS / 2)
  // Half the keys moved: scripts on a moved and an unmoved key get TRYAGAIN
  // for longer than ioredis' 16 redirections would wait, as with large keys.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  moved += await cluster.migrateSlotKeys(slot, to, 50)
  await cluster.finishSlotMove(slot, to)
  t.ok(moved >= HOT_KEYS, `moved ${moved} keys of slot ${slot} from port ${from.port} to ${to.port}`)
  const promoted = await cluster.failover(to)
  t.comment(`failed over port ${to.port} to its replica on port ${promoted.port}`)
  // Let the load run on the new topology too.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  load.running = false
  await Promise.all(workers)

  for (const op of Object.keys(counts) as Op[]) {
    const errors = Object.entries(counts[op].errors).map(([code, n]) => `${code}=${n}`).join(' ') || 'none'
    t.comment(`${op.padEnd(6)} ok=${counts[op].ok} errors: ${errors}`)
  }
  t.same(raw, [], 'every error reached the caller with a redkit code')
  t.equal(await cluster.ownerOf(slot), promoted, 'the slot is served by the promoted replica')
  t.equal(await client.exists(...Array.from({ length: 100 }, (_, i) => hot(i * 10))), 100, 'the moved keys are all there')
  const counter = Number(await client.get(app.redkit.key(tag, 'counter')))
  t.ok(counter >= counts.incr.ok, `the counter (${counter}) counts every acknowledged INCR (${counts.incr.ok})`)
})
