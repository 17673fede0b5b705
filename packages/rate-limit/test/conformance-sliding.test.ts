import { test } from 'tap'
import { conformance } from './conformance/suite.js'
import { MEMORY_SKIPS, SKIPS } from './conformance/skips.js'

test('@fastify/rate-limit\'s own tests on the redkit store, sliding', async (t) => {
  await conformance(t as never, 'sliding', SKIPS['sliding']!, MEMORY_SKIPS, { mirror: 53, memory: 51 })
})
