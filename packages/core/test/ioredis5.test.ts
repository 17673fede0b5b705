import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'tap'
import { startCluster, startRedis } from '@redkit/testing'
import { checkInternals, type IoredisModule } from './ioredis-internals-checks.js'

// The peer range names ioredis 5 too: its lowest and newest releases get the
// same checks as the installed ioredis 6, from a throwaway npm install.
const RELEASES = { 'ioredis-5-lowest': '5.4.0', 'ioredis-5-newest': '^5.4.0' }

test('ioredis internals core relies on, on ioredis 5', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'redkit-ioredis5-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const specs = Object.entries(RELEASES).map(([alias, range]) => `${alias}@npm:ioredis@${range}`)
  await promisify(execFile)('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-package-lock', ...specs],
    { timeout: 60_000 })
  const server = await startRedis()
  t.teardown(server.stop)
  const cluster = await startCluster()
  t.teardown(cluster.stop)
  for (const alias of Object.keys(RELEASES)) {
    const root = join(dir, 'node_modules', alias)
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }
    await t.test(`ioredis ${version}`, async (t) => {
      t.match(version, /^5\./)
      const mod = await import(pathToFileURL(join(root, 'built', 'index.js')).href) as { default: IoredisModule['Redis'] & { Cluster: IoredisModule['Cluster'], Command: IoredisModule['Command'] } }
      await checkInternals(t, { Redis: mod.default, Cluster: mod.default.Cluster, Command: mod.default.Command }, root, server, cluster.nodes)
    })
  }
})
