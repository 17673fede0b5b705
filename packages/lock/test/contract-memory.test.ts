import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { contract } from './contract.js'

test('memory backend', async (t) => {
  contract(t, await useTarget(t, 'memory'))
})
