import type { Cluster, Redis } from 'ioredis'
import type { Test } from 'tap'
import { countKeys, keysWithoutTtl } from '@redkit/testing'
import { PREFIX_LABEL } from './helpers.js'

/** Asserts that every key the suite wrote under its test prefixes has a TTL. */
export async function assertAllKeysExpire (t: Test, admin: Redis | Cluster): Promise<void> {
  const prefix = `redkit-test:${PREFIX_LABEL}:`
  const checked = await countKeys(admin, prefix)
  t.same(await keysWithoutTtl(admin, prefix), [], `all ${checked} keys left by the suite have a TTL`)
  t.ok(checked > 0, 'the check saw keys')
}
