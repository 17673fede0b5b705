import { test } from 'tap'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'

test('memory backend', async (t) => {
  contract(t, {
    label: 'memory',
    setup: async (t, instances = 1, lock = {}) => {
      const app = await makeApp({ mode: 'memory', env: {} }, lock)
      t.teardown(async () => await app.close())
      return { apps: Array.from({ length: instances }, () => app) }
    }
  })
})
