import { test } from 'tap'
import { conformance } from './conformance/suite.js'
import { MEMORY_SKIPS, SKIPS } from './conformance/skips.js'

test('@fastify/rate-limit\'s own tests on the redkit store, token-bucket', async (t) => {
  await conformance(t as never, 'token-bucket', SKIPS['token-bucket']!, MEMORY_SKIPS, { mirror: 79, memory: 77 })
})
