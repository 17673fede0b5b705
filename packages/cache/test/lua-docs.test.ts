import { test } from 'tap'
import { scriptDocProblems } from '@redkit/testing'
import * as lua from '../src/lua.js'

test('every script documents the KEYS its key count declares, and the KEYS and ARGV it reads', async (t) => {
  t.same(scriptDocProblems(lua.SCRIPTS, lua, [new URL('../src/lua.ts', import.meta.url)]), [])
})
