import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { demosOn } from './instances.js'
import { integrationSuite } from './scenarios.js'

test('3 demo instances on a 3-master Cluster', async (t) => {
  const target = await useTarget(t, 'cluster')
  integrationSuite(t, demosOn(t, target), 'cluster')

  t.test('every key the demo wrote has a TTL, on every master', async (t) => {
    t.same(await target.keysWithoutTtl(), [])
  })
})
