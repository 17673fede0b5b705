import { test } from 'tap'
import { scriptDocProblems } from '@redkit/testing'
import * as lua from '../src/lua.js'

const files = ['lua.ts', 'lua/lock.ts', 'lua/batch.ts', 'lua/semaphore.ts', 'lua/registry.ts'].map((file) => new URL(`../src/${file}`, import.meta.url))

test('every script documents the KEYS its key count declares, and the KEYS and ARGV it reads', async (t) => {
  t.same(scriptDocProblems(lua.SCRIPTS, lua, files), [])
})
