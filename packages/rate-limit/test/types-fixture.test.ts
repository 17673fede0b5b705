import { test } from 'tap'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

test('@fastify/rate-limit, @fastify/session, @fastify/cookie and the redkit packages compile together with skipLibCheck off', async (t) => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const project = fileURLToPath(new URL('./types-fixture/tsconfig.json', import.meta.url))
  const run = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
  t.equal(run.status, 0, run.stdout + run.stderr)
})
