// How the admin routes a Prometheus scrape and the dashboard's polling call
// scale with the keyspace. One app (core, session, lock, cache, admin) on a
// private redis-server, measured at a small size and again after growing the
// data (100x the sessions, 1000x the held locks): p50 wall time per request and Redis commands sent per request
// (core's command counter). A route that is O(1) in the keyspace shows ratios
// near 1x; one that walks every key shows ratios near the growth factor.
// Run with `pnpm --filter @redkit/admin bench:scaling`, or as part of `pnpm bench`.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import redkitSession from '@redkit/session'
import redkitLock from '@redkit/lock'
import redkitCache from '@redkit/cache'
import { startRedis, uniquePrefix } from '@redkit/testing'
import redkitAdmin from '../dist/index.js'

// Small: 1,000 sessions and 10 held locks. Large: 100 times the sessions and 1,000 times the locks.
const SIZES = [
  [Number(process.env.SCALING_SESSIONS ?? 1000), Number(process.env.SCALING_LOCKS ?? 10)],
  [Number(process.env.SCALING_LARGE_SESSIONS ?? 100_000), Number(process.env.SCALING_LARGE_LOCKS ?? 10_000)]
]
const SAMPLES = Number(process.env.SCALING_SAMPLES ?? 21)
const LOCK_OPS = Number(process.env.SCALING_LOCK_OPS ?? 420)
// Commands in flight at once while filling: ioredis writes them back to back, one pipeline per batch.
const BATCH = 1000
const TOKEN = 'bench-admin-token-0123456789abcdef'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const LEASE = 30 * 60_000

const redis = await startRedis({ local: true })
const app = Fastify()
await app.register(redkit, { url: redis.url, keyPrefix: uniquePrefix('scaling'), env: {} })
await app.register(redkitSession, { secret: 'a-session-secret-of-at-least-32-characters', cookie: { secure: false } })
await app.register(redkitLock)
await app.register(redkitCache)
await app.register(redkitAdmin, { token: TOKEN })
await app.ready()

let sessions = 0
let locks = 0
const held = []

async function inBatches (count, make) {
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => make(i + j)))
  }
}

/** Sessions through the store's public API (so any index or registry it keeps is kept), many in flight at once. */
async function growTo (sessionTarget, lockTarget) {
  const addSessions = sessionTarget - sessions
  await inBatches(addSessions, async (i) => {
    await app.sessions.store.set(randomBytes(24).toString('base64url'), { userId: `user-${(sessions + i) % 5000}`, views: 1 })
  })
  sessions = sessionTarget
  const addLocks = lockTarget - locks
  await inBatches(addLocks, async (i) => {
    held.push(await app.locks.acquire(`held-${locks + i}`, { ttl: LEASE }))
  })
  locks = lockTarget
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const ROUTES = [
  ['GET /admin/metrics', '/admin/metrics'],
  ['GET /admin/sessions/stats', '/admin/sessions/stats'],
  // A page no larger than the small size holds, so both sizes list a full page: the ratio then shows
  // the keyspace's effect, not a page of 10 rows against one of 100.
  ['GET /admin/locks?limit=10 (first page)', '/admin/locks?limit=10'],
  ['GET /admin/sessions?limit=50', '/admin/sessions?limit=50'],
  ['GET /admin/overview', '/admin/overview'],
  ['GET /admin/redis/info', '/admin/redis/info'],
  ['GET /admin/cache/stats', '/admin/cache/stats']
]
const LOCK_CYCLE = 'lock acquire+release'

/** One timed call; returns [ms, Redis commands sent meanwhile]. */
async function timed (fn) {
  const before = app.redkit.stats().commands
  const started = performance.now()
  await fn()
  return [performance.now() - started, app.redkit.stats().commands - before]
}

async function get (url) {
  const res = await app.inject({ url, headers: AUTH })
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`)
}

async function lockCycle () {
  const lock = await app.locks.acquire('bench-cycle', { ttl: 10_000 })
  await lock.release()
}

/**
 * Samples go round-robin over the routes, so a burst of load from other
 * processes lands on every route alike instead of on one route's samples.
 */
async function measureAll () {
  const samples = new Map([...ROUTES.map(([name]) => [name, []]), [LOCK_CYCLE, []]])
  for (const [, url] of ROUTES) await get(url) // warm-up
  for (let i = 0; i < 20; i++) await lockCycle()
  const cyclesPerRound = Math.max(1, Math.round(LOCK_OPS / SAMPLES))
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, url] of ROUTES) samples.get(name).push(await timed(() => get(url)))
    for (let j = 0; j < cyclesPerRound; j++) samples.get(LOCK_CYCLE).push(await timed(lockCycle))
  }
  return new Map([...samples].map(([name, xs]) => [name, { ms: median(xs.map((x) => x[0])), commands: median(xs.map((x) => x[1])) }]))
}

const results = []
for (const [s, l] of SIZES) {
  const started = performance.now()
  await growTo(s, l)
  console.error(`filled to ${s} sessions and ${l} held locks in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  results.push(await measureAll())
}

const [small, large] = results
const label = (s, l) => `${s.toLocaleString('en')} sess + ${l.toLocaleString('en')} locks`
console.log(`redis-server local, app in this process; p50 of ${SAMPLES} requests per route taken round-robin (lock cycle: ${LOCK_OPS}); cmd = Redis commands per request\n`)
console.log('route'.padEnd(32), label(...SIZES[0]).padStart(30), label(...SIZES[1]).padStart(34), 'ratio'.padStart(9))
for (const name of small.keys()) {
  const a = small.get(name)
  const b = large.get(name)
  const cell = (r) => `${r.ms.toFixed(2)} ms, ${r.commands} cmd`
  console.log(name.padEnd(32), cell(a).padStart(30), cell(b).padStart(34), `${(b.ms / a.ms).toFixed(1)}x`.padStart(9))
}
console.log('')
for (const name of small.keys()) {
  // Lower is better: 1x means the route does not grow with the keyspace. Commands per request are the
  // steadier measure on a busy machine; time is what a scrape or a dashboard refresh waits.
  const a = small.get(name)
  const b = large.get(name)
  console.log(`scaling ratio ${name}, time large/small (lower is better): ${(b.ms / a.ms).toFixed(2)}x`)
  console.log(`scaling ratio ${name}, Redis commands large/small (lower is better): ${(a.commands === b.commands ? 1 : b.commands / Math.max(1, a.commands)).toFixed(2)}x`)
}

await Promise.all(held.map(async (lock) => await lock.release().catch(() => {})))
await app.close()
await redis.stop()
