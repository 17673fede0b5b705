/**
 * @fastify/rate-limit's own tests that the redkit store does not pass, by
 * name, with the reason (also in the README, 'Differences from the built-in
 * stores'). Names are matched exactly; a test not listed must pass.
 */
const FAIL_OPEN = 'the store fails open by default: with the Redis client closed the request passes (the built-in Redis store answers 500); onRedisError: \'closed\' answers 503. In memory mode there is no Redis to fail'
const PEEK_BACKOFF = 'a peek reports when the backed-off window really ends, as the built-in Redis store does; the built-in memory store reports the base window'
const option = (algorithm: string): string =>
  `it sets ban, continueExceeding or exponentialBackoff, which the ${algorithm} algorithm refuses at setup (FST_REDKIT_RATE_LIMIT_UNSUPPORTED_OPTION)`
const numbers = (algorithm: string): string =>
  `it asserts fixed-window numbers (ttl, x-ratelimit-reset, remaining, or which request is refused once time has passed); the ${algorithm} algorithm counts differently by design`

function table (entries: Array<[string[], string]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [names, reason] of entries) for (const name of names) out[name] = reason
  return out
}

const FIXED_SKIPS: Array<[string[], string]> = [
  [['Throw on redis error', 'With { increment: false } it throws on redis error'], FAIL_OPEN],
  [['With { increment: false } and exponentialBackoff the peek reports the base window without escalating it'], PEEK_BACKOFF]
]

/** Tests that use ban, continueExceeding or exponentialBackoff, which the sliding and token-bucket algorithms refuse. */
const WINDOW_OPTIONS = [
  'With custom rate limit options',
  'With { increment: false } and continueExceeding the peek mirrors the active window',
  'With { increment: false } and exponentialBackoff the peek reports the base window without escalating it',
  'Exponential Backoff',
  'Global Exponential Backoff',
  'MAx safe Exponential Backoff',
  'issue #207 - when continueExceeding is true and the store is local then it should reset the rate-limit',
  "issue #284 - don't set the reply code automatically",
  'With onBanReach option',
  'With ban',
  'When continue exceeding is on (Local)',
  'ban directly',
  'wrong timewindow',
  'With redis store (ban)',
  'When continue exceeding is on (Redis)',
  'Redis with continueExceeding should not always return the timeWindow as ttl',
  'With redis store and exponential backoff',
  'When continue exceeding is off under route (Redis)',
  'Route-specific exponential backoff with redis store'
]
const SLIDING_NUMBERS = [
  'With global rate limit options',
  'With { increment: false } it reads the state without consuming it',
  'issue #215 - when using local store, 2nd user should not be rate limited when the time window is passed for the 1st user',
  'Basic',
  'With text timeWindow',
  'With function timeWindow',
  'When passing NaN to the timeWindow property then the timeWindow should be the default value - 60 seconds',
  'With keyGenerator',
  'With async/await keyGenerator',
  'hide rate limit headers',
  'hide rate limit headers on exceeding',
  'hide rate limit headers at all times',
  'With enabled IETF Draft Spec',
  'hide IETF draft spec headers',
  'afterReset and Rate Limit remain the same when enableDraftSpec is enabled',
  'With multiple routes and custom groupId',
  'Set not found handler can be rate limited',
  'Set not found handler can be rate limited with specific options',
  'With redis store',
  'When use a custom nameSpace',
  'custom error response',
  'global timeWindow when not set in routes',
  'Allow multiple different rate limiter registrations',
  'With enable IETF draft spec',
  'Allow custom timeWindow in preHandler',
  'With NaN in subroute config'
]

const TOKEN_BUCKET_NUMBERS = [
  'With global rate limit options',
  'With { increment: false } it reads the state without consuming it',
  'when passing NaN to max variable then it should use the default max - 1000',
  'With enabled IETF Draft Spec',
  'Set not found handler can be rate limited with specific options',
  'Basic',
  'global timeWindow when not set in routes'
]

export const SKIPS: Record<string, Record<string, string>> = {
  fixed: table(FIXED_SKIPS),
  sliding: table([...FIXED_SKIPS, [WINDOW_OPTIONS, option('sliding')], [SLIDING_NUMBERS, numbers('sliding')]]),
  'token-bucket': table([...FIXED_SKIPS, [WINDOW_OPTIONS, option('token-bucket')], [TOKEN_BUCKET_NUMBERS, numbers('token-bucket')]])
}

/** Tests that use a Redis client the store does not use in memory mode. */
export const MEMORY_SKIPS: Record<string, string> = {
  'Skip on redis error': 'memory mode has no Redis to fail: the request is counted like any other, where the built-in Redis store fails and counts nothing'
}
