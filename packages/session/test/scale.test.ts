import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import type { RedisBackend } from '../src/redis.js'
import { buildApp } from './helpers.js'

const SESSIONS = 100_000
const USERS = 1000
const CHUNK = 10_000

/**
 * Writes sessions the way the save script lays them out (hash, TTL, registry
 * entries, user index), server-side in chunks, so the test spends its time
 * on the listing rather than on 100,000 round trips.
 */
const FILL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = 3600000
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local id = string.format('scale-%07d-session', i)
  local user = 'user-' .. (i % ${USERS})
  local key = ARGV[3] .. '{' .. id .. '}'
  redis.call('HSET', key, '#meta', '{"c":' .. now .. ',"u":"' .. user .. '"}', '.n', i)
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', KEYS[1], now + ttl, id)
  local index = ARGV[4] .. '{' .. user .. '}'
  redis.call('ZADD', index, now + ttl, id)
  redis.call('PEXPIRE', index, ttl)
  redis.call('ZADD', KEYS[2], now + ttl, user)
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`

test('100,000 sessions: counted in one call, listed with cursors under 1 KB at any limit', async (t) => {
  const server = await startRedis()
  t.teardown(server.stop)
  const admin = server.client()
  const prefix = uniquePrefix('sess-scale')
  const { app } = await buildApp(t, { url: server.url, keyPrefix: prefix })
  const backend = app.sessions.store.backend as RedisBackend
  for (let from = 0; from < SESSIONS; from += CHUNK) {
    await admin.eval(FILL, 2, backend.registry, backend.usersRegistry, from, from + CHUNK - 1, `${prefix}sess:`, `${prefix}sess-user:`)
  }
  t.equal(await admin.zcard(backend.registry), SESSIONS, 'filled')

  const before = app.redkit.stats().commands
  t.same(await app.sessions.count(), { sessions: SESSIONS, users: USERS })
  t.equal(app.redkit.stats().commands - before, 1, 'one script call for the counts')

  let longest = 0
  for (const limit of [1, 100, 1000]) {
    let cursor: string | null = null
    let last = ''
    for (let page = 0; page < 3; page++) {
      const got: { sessions: Array<{ sessionId: string }>, cursor: string | null } = await app.sessions.list({ cursor, limit })
      t.equal(got.sessions.length, limit, `limit ${limit}, page ${page + 1}`)
      // Every entry shares one expiry here, so the order is by id: pages follow on without a gap.
      const expected = Array.from({ length: limit }, (_, i) => `scale-${String(page * limit + i).padStart(7, '0')}-session`)
      t.same(got.sessions.map((s) => s.sessionId), expected, `limit ${limit}, page ${page + 1}: the next ids`)
      t.ok(got.sessions[0]!.sessionId > last, 'after the previous page')
      last = got.sessions[got.sessions.length - 1]!.sessionId
      cursor = got.cursor
      t.type(cursor, 'string')
      longest = Math.max(longest, cursor!.length)
      t.ok(Buffer.byteLength(`GET /admin/sessions?limit=${limit}&cursor=${cursor!} HTTP/1.1`) < 1024, 'a request line under 1 KB')
    }
  }
  t.ok(longest < 1024, `longest cursor ${longest} characters`)
  t.comment(`longest cursor at ${SESSIONS} sessions: ${longest} characters`)
  await t.rejects(app.sessions.list({ cursor: 'A'.repeat(1025) }), { code: 'FST_REDKIT_SESSION_INVALID_CURSOR' }, 'a cursor over the bound')
  await admin.unlink(backend.registry, backend.usersRegistry)
})
