import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { makeApp, sleep } from './helpers.js'
import { Resource, runWorkers } from './stress.js'

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => { unhandled.push(reason) })

for (const persistence of [true, false]) {
  test(`Redis SIGKILLed for 3 s mid-run (${persistence ? 'with' : 'without'} persistence): no overlap, coded errors`, async (t) => {
    const server = await startRedis({ persistence, local: true })
    t.teardown(server.stop)
    const keyPrefix = uniquePrefix('lock')
    const core = { url: server.url, keyPrefix, env: {}, commandTimeout: 500 }
    const apps = [await makeApp(core), await makeApp(core)]
    t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })

    const resource = new Resource()
    // Killed after a fifth of the run, however fast the run goes, so it is down mid-run.
    const fifth = new Promise<void>((resolve) => { resource.onEnter = (n) => { if (n === 200) resolve() } })
    const chaos = (async () => {
      await fifth
      await server.kill()
      await sleep(3000)
      await server.restart()
    })()
    const { errors, uncoded } = await runWorkers(apps, 4, 1000, 'shared', resource)
    await chaos
    t.equal(resource.entries, 1000)
    t.equal(resource.overlaps, 0, 'no overlap')
    t.equal(resource.decreases, 0, 'tokens strictly increase across the restart')
    t.ok((errors.get('FST_REDKIT_LOCK_UNAVAILABLE') ?? 0) > 0, `errors while Redis was down: ${JSON.stringify([...errors])}`)
    t.same(uncoded, [], 'every error is coded')
    t.same(unhandled, [], 'no unhandled rejections')
  })
}
