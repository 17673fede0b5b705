/** XADD with an approximate length bound, and a TTL refreshed in the same round trip. */
export const STREAM_ADD = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id
`

/** Creates a consumer group (and the stream) once; a stream created here gets a TTL too. */
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
 * Marks a consumer name as used by one running consumer (ARGV[1], a token of
 * its own) for ARGV[2] ms. Last writer wins; the previous holder is returned
 * when it was someone else, so two live consumers sharing a name see each
 * other on their next refresh.
 */
export const CONSUMER_MARK = `
local holder = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if holder and holder ~= ARGV[1] then return holder end
return false
`

/** Removes the mark, only if it is still this consumer's. */
export const CONSUMER_UNMARK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`
