import { test } from 'tap'
import { checkOptions } from '../src/options.js'

test('onRedisError: open by default, closed on request, other values refused', async (t) => {
  t.equal(checkOptions({}).onRedisError, 'open')
  t.equal(checkOptions({ onRedisError: 'closed' }).onRedisError, 'closed')
  t.throws(() => checkOptions({ onRedisError: 'half' as never }), {
    code: 'FST_REDKIT_CACHE_INVALID_OPTION', message: /onRedisError must be 'open' or 'closed'/
  })
})

test('failOpen is refused with an error naming onRedisError', async (t) => {
  for (const failOpen of [true, false]) {
    t.throws(() => checkOptions({ failOpen } as never), {
      code: 'FST_REDKIT_CACHE_INVALID_OPTION', message: /failOpen was replaced by onRedisError/
    })
  }
})

test('unknown options, nested ones included, are named', async (t) => {
  t.throws(() => checkOptions({ colour: 1 } as never), { code: 'FST_REDKIT_CACHE_INVALID_OPTION', message: /unknown option "colour"/ })
  t.throws(() => checkOptions({ memory: { size: 1 } } as never), { code: 'FST_REDKIT_CACHE_INVALID_OPTION', message: /unknown option "memory.size"/ })
  t.throws(() => checkOptions({ l1: { size: 1 } } as never), { code: 'FST_REDKIT_CACHE_INVALID_OPTION', message: /unknown option "l1.size"/ })
})
