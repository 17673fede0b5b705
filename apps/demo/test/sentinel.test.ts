import { test } from 'tap'
import { Redis } from 'ioredis'
import { startSentinel, uniquePrefix, waitFor } from '@redkit/testing'
import { Browser, startDemos } from './instances.js'

const WRITES = 5000
const CONCURRENCY = 10
const FAIL_AT = 1500
const RECONNECT_BOUND_MS = 20_000

test('Sentinel failover during 5,000 writes', async (t) => {
  const group = await startSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000 })
  t.teardown(group.stop)
  const prefix = uniquePrefix('sentinel')
  const [demo] = await startDemos(1, {
    REDIS_SENTINELS: group.sentinelList,
    REDIS_SENTINEL_NAME: group.name,
    REDIS_KEY_PREFIX: prefix,
    ITEMS_RATE_LIMIT: '1000000'
  })
  t.teardown(async () => await demo!.stop())

  // Writes need a login; the session is written long before the failover, so the replica has it.
  const writer = new Browser()
  const login = await writer.fetch(`${demo!.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"writer"}' })
  t.equal(login.status, 200, 'logged in')

  const acknowledged: string[] = []
  const failures: Array<{ at: number, status: number, body: string }> = []
  let firstFailureAt = 0
  let failedAt = 0
  let next = 0
  const oldMaster = group.master.port
  const worker = async (): Promise<void> => {
    while (next < WRITES) {
      const i = next++
      if (i === FAIL_AT) {
        failedAt = Date.now()
        group.master.kill().catch(() => {})
      }
      const id = `w${i}`
      try {
        const res = await writer.fetch(`${demo!.url}/api/items/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `write ${i}`, price: i }),
          signal: AbortSignal.timeout(15_000)
        })
        const body = await res.text()
        if (res.status === 200) acknowledged.push(id)
        else {
          failures.push({ at: Date.now(), status: res.status, body })
          if (firstFailureAt === 0) firstFailureAt = Date.now()
          // Back off a little, as a client would, instead of spinning through the outage.
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      } catch (err) {
        failures.push({ at: Date.now(), status: 0, body: (err as Error).message })
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))

  const newMaster = await group.currentMaster()
  t.not(newMaster.port, oldMaster, `sentinels promoted the replica (port ${newMaster.port})`)
  const lastFailure = failures.at(-1)?.at ?? failedAt
  const outage = failures.length === 0 ? 0 : lastFailure - failedAt
  t.comment(`writes: ${WRITES} sent, ${acknowledged.length} acknowledged, ${failures.length} failed; failed writes stopped ${outage} ms after the master was killed`)
  t.ok(outage < RECONNECT_BOUND_MS, `the demo writes to the new master within ${RECONNECT_BOUND_MS} ms (took ${outage} ms)`)
  t.equal(failures.filter((f) => /READONLY/.test(f.body)).length, 0, 'no READONLY errors')
  t.ok(failures.every((f) => f.status === 503 || f.status === 500), `failed writes answer 5xx: ${[...new Set(failures.map((f) => f.status))].join(',')}`)
  t.notOk(demo!.logs.some((l) => /READONLY/.test(l)), 'no READONLY in the demo logs')

  const client = new Redis({ sentinels: group.sentinels, name: group.name, lazyConnect: true })
  t.teardown(() => client.disconnect())
  await client.connect()
  await waitFor(async () => (await client.call('ROLE') as string[])[0] === 'master', 5000, 'a master')
  const stored = new Set(await client.hkeys(`${prefix}demo:items`))
  const lost = acknowledged.filter((id) => !stored.has(id))
  t.comment(`acknowledged writes lost in the failover: ${lost.length} of ${acknowledged.length} (asynchronous replication)`)
  t.ok(lost.length < 200, `acknowledged writes lost: ${lost.length}`)
  t.ok(acknowledged.length > WRITES - 2000, 'most writes were acknowledged')
})
