// "Raw auto-pipelined, same Redis work": the @fastify/session store a
// performance-minded user would write by hand on ioredis with
// enableAutoPipelining, doing per request the Redis work @redkit/session does
// on a single server, and no more:
//   get     GET <prefix>sess:<id> (one JSON string per session)
//   set     one EVALSHA of SAVE below, which runs
//             SET <session> <json> PX <ttl>
//             TIME, then ZADD <registry> <expiry ms> <id>: the registry of
//               live sessions scored by expiry on the server clock, as
//               @redkit/session's sess-reg
//             ZREMRANGEBYSCORE <registry> -inf <now> only when the ZADD added
//               a member (a write that only moves a score leaves the size as
//               it was, as in @redkit/session)
//             PTTL <registry>, and PEXPIREAT <registry> <expiry + 60 s> only
//               when the registry would die before its latest entry
//           and, when session.userId is set (@redkit/session's default
//           userField), the same for the user's index (ZADD, trim, TTL
//           upkeep) plus ZADD GT of the user into the users registry
//           (the bench routes set no userId, so neither store writes an index there)
//   destroy one EVALSHA of DESTROY: DEL, ZREM from the registry (not measured)
// A small Lua script via defineCommand is the fastest hand-written form of
// this: measured on this machine (50 concurrent loops, a new id per save),
// Lua cost ~7 µs of client CPU and ~11 µs of Redis CPU per save, an
// auto-pipelined MULTI/EXEC of the same commands ~49 µs and ~15 µs (ioredis
// builds a Pipeline per call, Redis queues and replays each command), plain
// auto-pipelined commands without MULTI ~22 µs and ~7 µs (four commands to
// encode and four replies to parse, and no atomicity).
// It keeps no tombstones and does no existence check before an update, and
// stores the session as one JSON string rather than a hash of fields, which is
// what such a user would write; @redkit/session pays for those on top.

const SLACK = 60_000

// Scores and expiries go to redis.call as integer text: Redis would print a
// Lua number with %.17g, several times the cost.
const LIB = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function place(key, member, score, now)
  if redis.call('ZADD', key, string.format('%d', score), member) == 1 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
  end
  if redis.call('PTTL', key) < score - now then
    redis.call('PEXPIREAT', key, string.format('%d', score + ${SLACK}))
  end
end
`

// KEYS: session, registry[, user index, users registry]; ARGV: json, ttl ms, id[, user].
const SAVE = LIB + `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local now = now_ms()
local score = now + tonumber(ARGV[2])
place(KEYS[2], ARGV[3], score, now)
if KEYS[3] then
  place(KEYS[3], ARGV[3], score, now)
  redis.call('ZADD', KEYS[4], 'GT', string.format('%d', score), ARGV[4])
  if redis.call('PTTL', KEYS[4]) < score - now then
    redis.call('PEXPIREAT', KEYS[4], string.format('%d', score + ${SLACK}))
  end
end
return 1
`

// KEYS: session, registry; ARGV: id. Not on the measured paths.
const DESTROY = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`

/** A user id as @redkit/session indexes it: a non-empty string or a finite number. */
function userOf (session) {
  const value = session.userId
  if (typeof value === 'string') return value.length > 0 && value.length <= 512 ? value : undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

export function sameWorkStore (client, prefix) {
  client.defineCommand('benchSameSave', { lua: SAVE })
  client.defineCommand('benchSameDestroy', { lua: DESTROY })
  const registry = `${prefix}sess-reg`
  const usersRegistry = `${prefix}sess-reg-users`
  const sessionKey = (id) => `${prefix}sess:${id}`
  const userKey = (user) => `${prefix}sess-user:${user}`
  return {
    get (id, cb) {
      client.get(sessionKey(id)).then((text) => cb(null, text === null ? null : JSON.parse(text)), (err) => cb(err))
    },
    set (id, session, cb) {
      const ttl = session.cookie?.originalMaxAge ?? 86_400_000
      const user = userOf(session)
      const json = JSON.stringify(session)
      const sent = user === undefined
        ? client.benchSameSave(2, sessionKey(id), registry, json, ttl, id)
        : client.benchSameSave(4, sessionKey(id), registry, userKey(user), usersRegistry, json, ttl, id, user)
      sent.then(() => cb(), (err) => cb(err))
    },
    destroy (id, cb) {
      // The user is not known here without a read; the index entry expires with its score.
      client.benchSameDestroy(2, sessionKey(id), registry, id).then(() => cb(), (err) => cb(err))
    }
  }
}
