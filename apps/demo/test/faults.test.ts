import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { startRedis, uniquePrefix, waitFor } from '@redkit/testing'
import { Browser, startDemos } from './instances.js'
import { startLoad, summarize } from './load.js'

const DEADLINE = 500

async function loggedIn (base: string, name: string): Promise<Browser> {
  const browser = new Browser()
  await browser.fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name }) })
  return browser
}

test('Redis faults under load', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const demos = await startDemos(3, {
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: uniquePrefix('faults'),
    REDIS_COMMAND_TIMEOUT: String(DEADLINE),
    ITEMS_RATE_LIMIT: '1000000'
  })
  t.teardown(async () => { await Promise.all(demos.map(async (d) => await d.stop())) })
  const urls = demos.map((d) => d.url)
  const browsers = await Promise.all(urls.map(async (u, i) => await loggedIn(u, `load${i}`)))

  t.test('SIGKILL for 3 s: requests fail fast with clear codes, nothing hangs, all instances recover', async (t) => {
    const load = startLoad(urls, 6, browsers)
    await sleep(1000)
    const killedAt = Date.now()
    await server.kill()
    await sleep(3000)
    await server.restart()
    const restartedAt = Date.now()
    const recovered: number[] = []
    for (const base of urls) {
      await waitFor(async () => (await fetch(`${base}/me`)).status === 200, 15_000, `${base} to serve /me again`)
      recovered.push(Date.now() - restartedAt)
    }
    await sleep(500)
    const samples = await load.stop()
    const during = samples.filter((s) => s.startedAt >= killedAt && s.startedAt < restartedAt)
    t.comment(`during the outage: ${summarize(during)}`)
    t.comment(`whole run: ${summarize(samples)}`)
    t.comment(`instances serving again ${recovered.map((ms) => `${ms} ms`).join(', ')} after restart`)
    t.ok(during.length > 0, 'traffic continued during the outage')
    t.equal(samples.filter((s) => s.status === 0).length, 0, 'no request hung or dropped its connection')
    t.ok(during.every((s) => [200, 409, 503].includes(s.status)), `only 200, 409 or 503 while Redis is down: ${summarize(during)}`)
    t.ok(during.some((s) => s.status === 503), 'Redis-backed routes answer 503')
    const worst = Math.max(...during.map((s) => s.ms))
    t.ok(worst < DEADLINE * 2 + 500, `slowest request during the outage ${Math.round(worst)} ms`)
    t.ok(samples.filter((s) => s.startedAt > restartedAt + Math.max(...recovered)).every((s) => s.status === 200 || s.status === 409), 'all instances serve normally after recovery')
  })

  t.test('SIGSTOP for 10 s: Redis routes answer within the deadline + 200 ms; /health stays up while /ready fails', async (t) => {
    const load = startLoad(urls, 6, browsers)
    await sleep(500)
    const pausedAt = Date.now()
    await server.pause()
    const probes: Array<{ health: number, ready: number }> = []
    while (Date.now() - pausedAt < 10_000) {
      const [health, ready] = await Promise.all([fetch(`${urls[0]}/health`), fetch(`${urls[0]}/ready`)])
      probes.push({ health: health.status, ready: ready.status })
      await sleep(1000)
    }
    await server.resume()
    const resumedAt = Date.now()
    await waitFor(async () => (await fetch(`${urls[0]}/ready`)).status === 200, 10_000, '/ready to recover')
    const readyAgain = Date.now() - resumedAt
    await sleep(500)
    const samples = await load.stop()
    const during = samples.filter((s) => s.startedAt >= pausedAt && s.startedAt + s.ms < resumedAt)
    t.comment(`during the pause: ${summarize(during)}`)
    t.comment(`/ready answered 200 again ${readyAgain} ms after SIGCONT`)
    const worst = Math.max(...during.map((s) => s.ms))
    t.ok(worst <= DEADLINE + 200, `slowest request while paused ${Math.round(worst)} ms (deadline ${DEADLINE} ms)`)
    t.equal(samples.filter((s) => s.status === 0).length, 0, 'nothing hung')
    t.ok(probes.every((p) => p.health === 200), '/health stays 200 throughout')
    t.ok(probes.slice(1).every((p) => p.ready === 503), '/ready answers 503 while Redis is paused')
  })
})
