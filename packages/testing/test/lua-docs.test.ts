import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { scriptDocProblems } from '../src/index.js'

const GET = "return redis.call('GET', KEYS[1]) .. ARGV[1]"
const PAIR = "redis.call('SET', KEYS[2], ARGV[2])\nreturn redis.call('GET', KEYS[1]) -- KEYS[3] only in a comment"
const SOURCE = `
/**
 * KEYS[1] = a string
 * ARGV[1] = a suffix
 * returns = the string and the suffix
 */
export const GET = \`...\`

/**
 * KEYS[1] = read
 * KEYS[2] = written
 * ARGV[2..] = the value
 * returns = what KEYS[1] holds
 */
export const PAIR = \`...\`
`

test('scriptDocProblems compares key counts, documented KEYS and the slots a script reads', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'lua-docs-')), 'lua.ts')
  writeFileSync(file, SOURCE)
  const exports = { GET, PAIR }
  t.same(scriptDocProblems({ get: { name: 'g', keys: 1, lua: GET }, pair: { name: 'p', keys: 2, lua: PAIR } }, exports, [file]), [])
  t.same(scriptDocProblems({ get: { name: 'g', keys: 2, lua: GET } }, exports, [file]), ['GET: declares 2 keys, documents KEYS[1]'])
  t.same(scriptDocProblems({ get: { name: 'g', keys: undefined, lua: GET } }, exports, [file]), [], 'a variable count needs only documented reads')
  t.same(scriptDocProblems({ get: { name: 'g', keys: 1, lua: GET + ' .. ARGV[2] .. KEYS[4]' } }, { GET: GET + ' .. ARGV[2] .. KEYS[4]' }, [file]), [
    'GET: reads KEYS[4], not documented',
    'GET: reads ARGV[2], not documented'
  ])
  t.same(scriptDocProblems({ other: { name: 'o', keys: 0, lua: 'return 1' } }, exports, [file]), [
    'other: no exported constant with a doc comment holds its text'
  ])
})
