import { test } from 'tap'
import { checkStoreOptions, DEFAULT_TOMBSTONE_TTL, DEFAULT_TTL } from '../src/options.js'

test('ttl and tombstoneTtl are milliseconds', async (t) => {
  t.same(checkStoreOptions({ ttl: 1500, tombstoneTtl: 60_000 }), { ...checkStoreOptions(), ttlMs: 1500, tombstoneTtlMs: 60_000 })
  t.equal(checkStoreOptions().ttlMs, DEFAULT_TTL)
  t.equal(DEFAULT_TTL, 86_400_000)
  t.equal(checkStoreOptions().tombstoneTtlMs, DEFAULT_TOMBSTONE_TTL)
  t.equal(DEFAULT_TOMBSTONE_TTL, 300_000)
})

test('a ttl or tombstoneTtl below 1000 is refused with an error saying milliseconds', async (t) => {
  for (const opts of [{ ttl: 300 }, { ttl: 0 }, { tombstoneTtl: 300 }, { tombstoneTtl: 999 }]) {
    t.throws(() => checkStoreOptions(opts), {
      code: 'FST_REDKIT_SESSION_INVALID_OPTION', message: /is in milliseconds and must be at least 1000/
    }, JSON.stringify(opts))
  }
  t.throws(() => checkStoreOptions({ ttl: 1000.5 }), { code: 'FST_REDKIT_SESSION_INVALID_OPTION', message: /ttl \(ms\) must be an integer/ })
  t.throws(() => checkStoreOptions({ ttl: '60000' as never }), { code: 'FST_REDKIT_SESSION_INVALID_OPTION' })
})
