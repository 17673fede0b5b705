// Admin benchmark, in one process against a local redis-server:
// 1. Listing every session for an admin page: @redkit/admin's paged listing
//    (app.sessions.list: SCAN + metadata only, 1000 per page) vs the store's all(), the
//    listing session stores offer (connect-redis and others: every session with
//    its contents), and app.sessions.list() (the API the route calls, without HTTP) vs
//    the same listing hand-written on an ioredis client with auto-pipelining (what a
//    performance-minded user writes by hand) doing the same Redis work: a page of the
//    session registry, then PTTL and the '#meta' field of each session.
//    Rounds alternate, median reported.
// 2. HTTP throughput of an authenticated route (Bearer token, constant-time
//    check) vs the public /health route, with autocannon, to show the cost of auth.
import Fastify from 'fastify'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import redkit from '@redkit/core'
import redkitSession from '@redkit/session'
import { startRedis, uniquePrefix } from '@redkit/testing'
import redkitAdmin from '../dist/index.js'

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 5000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION = Number(process.env.BENCH_DURATION ?? 3)
const TOKEN = 'bench-admin-token-0123456789abcdef'
const CONTENT = 'x'.repeat(2048)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const redis = await startRedis({ local: true })
const app = Fastify()
await app.register(redkit, { url: redis.url, keyPrefix: uniquePrefix('bench'), env: {} })
await app.register(redkitSession, { secret: 'a-session-secret-of-at-least-32-characters', cookie: { secure: false } })
await app.register(redkitAdmin, { token: TOKEN })
app.post('/login', async (request) => {
  request.session.set('userId', `user-${Math.floor(Math.random() * 500)}`)
  request.session.set('cart', CONTENT)
  await request.session.save()
  return { ok: true }
})
const base = await app.listen({ host: '127.0.0.1', port: 0 })

for (let i = 0; i < SESSIONS; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, SESSIONS - i) }, () => app.inject({ method: 'POST', url: '/login', payload: {} })))
}

async function adminListing () {
  let cursor = null
  let count = 0
  let bytes = 0
  do {
    const res = await app.inject({ url: `/admin/sessions?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, headers: { authorization: `Bearer ${TOKEN}` } })
    bytes += res.rawPayload.length
    const page = res.json()
    count += page.sessions.length
    cursor = page.nextCursor
  } while (cursor !== null)
  return { count, bytes }
}

async function storeAll () {
  const all = await app.sessions.store.all()
  return { count: all.length, bytes: Buffer.byteLength(JSON.stringify(all)) }
}

async function apiListing () {
  let cursor = null
  const sessions = []
  do {
    const page = await app.sessions.list({ cursor, limit: 1000 })
    sessions.push(...page.sessions)
    cursor = page.cursor
  } while (cursor !== null)
  return { count: sessions.length, bytes: Buffer.byteLength(JSON.stringify(sessions)) }
}

// The hand-written listing reads what list() reads: the registry (ids scored by expiry, ms) a page
// at a time, resuming at the last score and skipping the ids already listed there, then each
// session's remaining TTL and metadata, every command of a page in flight at once.
const raw = new Redis(redis.options({ enableAutoPipelining: true }))
const registry = app.redkit.key('sess-reg', app.redkit.hashTag(`${app.redkit.prefix}sess`))
const sessionKey = (id) => app.redkit.key('sess', `{${id}}`)
async function rawListing () {
  let from = String(Date.now())
  let seen = new Set()
  const sessions = []
  for (;;) {
    const flat = await raw.zrange(registry, from, '+inf', 'BYSCORE', 'LIMIT', 0, 1000, 'WITHSCORES')
    const ids = []
    for (let i = 0; i < flat.length; i += 2) if (!(flat[i + 1] === from && seen.has(flat[i]))) ids.push(flat[i])
    const now = Date.now()
    const rows = await Promise.all(ids.map(async (id) => await Promise.all([raw.pttl(sessionKey(id)), raw.hget(sessionKey(id), '#meta')])))
    rows.forEach(([ttl, meta], i) => {
      if (ttl === -2) return
      const m = JSON.parse(meta ?? '{}')
      sessions.push({
        sessionId: ids[i],
        ...(typeof m.u === 'string' ? { userId: m.u } : {}),
        created: m.c ?? 0,
        expires: ttl < 0 ? 0 : now + ttl,
        ...(typeof m.ip === 'string' ? { ip: m.ip } : {}),
        ...(typeof m.ua === 'string' ? { userAgent: m.ua } : {})
      })
    })
    if (flat.length < 2000) break
    const last = flat[flat.length - 1]
    if (last !== from) seen = new Set()
    from = last
    for (let i = 0; i < flat.length; i += 2) if (flat[i + 1] === last) seen.add(flat[i])
  }
  return { count: sessions.length, bytes: Buffer.byteLength(JSON.stringify(sessions)) }
}

const API = 'app.sessions.list() (API, paged, metadata only)'
const RAW = 'raw ioredis auto-pipelined, same Redis work'
const targets = [
  ['@redkit/admin GET /sessions (paged, metadata only)', adminListing], ['session store all() (contents included)', storeAll],
  [API, apiListing], [RAW, rawListing]
]
const times = new Map(targets.map(([name]) => [name, []]))
const sizes = new Map()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of targets) {
    const started = performance.now()
    const { count, bytes } = await fn()
    times.get(name).push(performance.now() - started)
    if (count < SESSIONS) throw new Error(`${name} saw ${count} of ${SESSIONS} sessions`)
    sizes.set(name, bytes)
  }
}

console.log(`redis-server local, app in this process; ${SESSIONS} sessions of ~2 KB, ${ROUNDS} alternating rounds, median\n`)
console.log('listing every session'.padEnd(60), 'ms'.padStart(9), 'MB read'.padStart(10))
for (const [name] of targets) {
  console.log(name.padEnd(60), median(times.get(name)).toFixed(1).padStart(9), (sizes.get(name) / 1e6).toFixed(2).padStart(10))
}
const [a, b] = targets.map(([name]) => median(times.get(name)))
console.log(`ratio (all() time / admin time): ${(b / a).toFixed(2)}x`)
console.log(`ratio app.sessions.list() / raw ioredis auto-pipelined listing (raw time / list() time): ${(median(times.get(RAW)) / median(times.get(API))).toFixed(2)}x\n`)
raw.disconnect()

async function rps (path, headers) {
  const result = await autocannon({ url: `${base}${path}`, connections: 20, duration: DURATION, headers })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.average
}
const http = { public: [], authed: [] }
for (let round = 0; round < ROUNDS; round++) {
  http.public.push(await rps('/admin/health'))
  http.authed.push(await rps('/admin/overview', { authorization: `Bearer ${TOKEN}` }))
}
console.log(`HTTP via autocannon against this process (20 connections, ${DURATION}s, ${ROUNDS} alternating rounds, median req/s)`)
console.log('GET /admin/health (public)'.padEnd(56), String(Math.round(median(http.public))).padStart(9))
console.log('GET /admin/overview (Bearer auth + Redis ping)'.padEnd(56), String(Math.round(median(http.authed))).padStart(9))

await app.close()
await redis.stop()

// Then how the admin routes scale with the keyspace, in a process of its own (BENCH_SCALING=0 skips it).
if (process.env.BENCH_SCALING !== '0') {
  const { spawnSync } = await import('node:child_process')
  console.log('\n---- scaling: admin routes at 1x and 100x data ----')
  const run = spawnSync(process.execPath, [new URL('./scaling.mjs', import.meta.url).pathname], { stdio: 'inherit' })
  if (run.status !== 0) process.exitCode = 1
}
