import type { Test } from 'tap'
import type { TestTarget } from '@redkit/testing'
import { contract, type Factory } from './contract.js'
import { storeContract } from './store-contract.js'
import { registryContract } from './registry-contract.js'
import { freshContract } from './fresh-contract.js'
import { buildApp } from './helpers.js'

/** Runs every session contract on the target. Run by contract-<target>.test.ts. */
export function contracts (t: Test, target: TestTarget): void {
  const make: Factory = async (t, session) => {
    const prefix = target.prefix(`sess-${target.kind}`)
    const handle = await buildApp(t, { ...target.core, keyPrefix: prefix }, session)
    return { handle, redis: target.admin, prefix }
  }
  contract(t, make)
  storeContract(t, make)
  registryContract(t, make)
  freshContract(t, make)
}

/** Last in a suite: every key the tests wrote has a TTL. */
export function everyKeyExpires (t: Test, target: TestTarget): void {
  t.test('zero keys without a TTL under the test prefixes', async (t) => {
    for (const prefix of target.prefixes) t.same(await target.keysWithoutTtl(prefix), [], prefix)
  })
}
