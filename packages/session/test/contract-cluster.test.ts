import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { contracts, everyKeyExpires } from './suites.js'

test('3-master Cluster', async (t) => {
  const target = await useTarget(t, 'cluster')
  contracts(t, target)
  everyKeyExpires(t, target)
})
