import { test } from 'tap'
import { useTarget } from '@redkit/testing'
import { Browser, demosOn } from './instances.js'
import { integrationSuite } from './scenarios.js'

test('3 demo instances on one Redis', async (t) => {
  const target = await useTarget(t, 'redis')
  const demos = demosOn(t, target)
  integrationSuite(t, demos, 'single')

  t.test('every key the demo wrote has a TTL', async (t) => {
    t.same(await target.keysWithoutTtl(), [])
  })

  t.test('SIGTERM finishes requests in flight, then exits cleanly', async (t) => {
    const [first] = demos()
    const browser = new Browser()
    await browser.fetch(`${first!.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"ops"}' })
    const slow = browser.fetch(`${first!.url}/jobs/shutdown-${Date.now()}/run?ms=500`, { method: 'POST' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const exit = first!.stop('SIGTERM')
    const res = await slow
    t.equal(res.status, 200, 'the request in flight completed')
    t.equal(await exit, 0, 'exit code 0')
    t.ok(first!.logs.some((l) => l.includes('shutting down')), 'shutdown is logged')
    t.ok(first!.logs.some((l) => l.includes('Redis connection closed')), 'Redis is closed')
  })
})
