import type { LuaScript } from '@redkit/core/kit'

/*
 * The scripts of durable streams. Each takes one key, so on Cluster it runs
 * on that key's slot.
 */

/**
 * XADD with an approximate length bound, and a TTL refreshed in the same round trip.
 *
 * KEYS[1] = stream
 * ARGV[1] = most entries kept (MAXLEN ~)
 * ARGV[2] = message (the envelope, field 'm')
 * ARGV[3] = stream TTL (ms)
 * returns = the entry id
 */
export const STREAM_ADD = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id
`

/**
 * Creates a consumer group (and the stream) once; a stream created here gets a TTL too.
 *
 * KEYS[1] = stream
 * ARGV[1] = group name
 * ARGV[2] = id the group starts after ('$' or an entry id)
 * ARGV[3] = TTL (ms) for a stream that has none
 * returns = 1 (an error reply other than BUSYGROUP is passed on)
 */
export const STREAM_GROUP = `
local r = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
if type(r) == 'table' and r.err and not string.find(r.err, 'BUSYGROUP') then
  return redis.error_reply(r.err)
end
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`

/**
 * Marks a consumer name as used by one running consumer. Last writer wins;
 * the previous holder is returned when it was someone else, so two live
 * consumers sharing a name see each other on their next refresh.
 *
 * KEYS[1] = the consumer name's mark
 * ARGV[1] = token of this running consumer
 * ARGV[2] = mark TTL (ms)
 * returns = the previous holder's token when it was another one, else nil
 */
export const CONSUMER_MARK = `
local holder = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if holder and holder ~= ARGV[1] then return holder end
return false
`

/**
 * Removes the mark, only if it is still this consumer's.
 *
 * KEYS[1] = the consumer name's mark
 * ARGV[1] = token of this running consumer
 * returns = 1 when the mark was removed, else 0
 */
export const CONSUMER_UNMARK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** Every script with its command name and key count. */
export const SCRIPTS = {
  streamAdd: { name: 'redkitPubsubStreamAdd', keys: 1, lua: STREAM_ADD },
  streamGroup: { name: 'redkitPubsubStreamGroup', keys: 1, lua: STREAM_GROUP },
  consumerMark: { name: 'redkitPubsubConsumerMark', keys: 1, lua: CONSUMER_MARK },
  consumerUnmark: { name: 'redkitPubsubConsumerUnmark', keys: 1, lua: CONSUMER_UNMARK }
} as const satisfies Record<string, LuaScript>
