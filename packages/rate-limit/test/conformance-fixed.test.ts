import { test } from 'tap'
import { conformance } from './conformance/suite.js'
import { MEMORY_SKIPS, SKIPS } from './conformance/skips.js'

test('@fastify/rate-limit\'s own tests on the redkit store, fixed', async (t) => {
  await conformance(t as never, 'fixed', SKIPS['fixed']!, MEMORY_SKIPS, { mirror: 109, memory: 107 })
})
