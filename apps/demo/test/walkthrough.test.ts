import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import type { RedkitOptions } from '@redkit/core'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { missing, parseSteps, runSteps, shellBlocks } from './walkthrough.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const ADMIN_TOKEN = 'walkthrough-admin-token-0123456789'

test('the walkthrough is parsed into commands with their shown outputs', async (t) => {
  const blocks = shellBlocks(README, '## Walkthrough, with curl')
  t.match(blocks[0]!.join('\n'), /pnpm demo/, 'the first block starts the server')
  const steps = parseSteps(blocks.slice(1).flat())
  t.ok(steps.length > 20, `${steps.length} commands`)
  t.ok(steps.filter((s) => s.expected.length > 0).length > 15, 'most show their output')
  t.ok(steps.some((s) => s.command.includes('/logout-everywhere') && s.expected.includes('{"revoked":2}')))
  const logout = steps.findIndex((s) => /\/logout \|/.test(s.command))
  const bridge = steps.findIndex((s) => s.command.includes('POST $B/bridge'))
  t.ok(bridge >= 0 && bridge < logout, 'the bridge token is issued while logged in')
  t.same(missing(['a', 'c…'], 'a\nb\ncde\n'), [])
  t.same(missing(['c', 'a'], 'a\nc\n'), ['a'], 'in order')
})

for (const backend of ['memory', 'redis'] as const) {
  test(`${backend}: the README walkthrough runs top to bottom with the outputs it shows`, async (t) => {
    let redis: RedkitOptions = { mode: 'memory', env: {} }
    if (backend === 'redis') {
      const server = await startRedis()
      t.teardown(server.stop)
      redis = { url: server.url, keyPrefix: uniquePrefix('demo-walk'), env: {} }
    }
    const config = loadConfig({ SESSION_SECRET: 'walkthrough-secret-walkthrough-secret-0123', ADMIN_TOKEN })
    const app = await buildApp(config, { redis, logger: false })
    t.teardown(async () => await app.close())
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = (app.server.address() as { port: number }).port

    const cwd = mkdtempSync(join(tmpdir(), 'redkit-walkthrough-'))
    t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
    const steps = parseSteps(shellBlocks(README, '## Walkthrough, with curl').slice(1).flat())
    const run = await runSteps(steps, cwd, { PORT: String(port), ADMIN_TOKEN })
    t.equal(run.code, 0, `bash exits 0${run.stderr === '' ? '' : `; stderr: ${run.stderr}`}`)
    steps.forEach((step, i) => {
      if (step.expected.length === 0) return
      const left = missing(step.expected, run.outputs[i]!)
      t.same(left, [], left.length === 0 ? step.command : `${step.command}\nprinted:\n${run.outputs[i]}`)
    })
  })
}
