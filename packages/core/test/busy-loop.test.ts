import { test } from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { buildApp } from './helpers.js'

const DEADLINE = 200

/** Blocks the event loop, as a burst of synchronous work in hooks does. */
function busy (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

test('replies that arrived while the instance was busy past the deadline are not timed out', async (t) => {
  const server = await startRedis({ local: true })
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, commandTimeout: DEADLINE, keyPrefix: uniquePrefix() })
  const client = app.redkit.client!
  const key = app.redkit.key('n')
  await client.ping()

  for (let round = 0; round < 5; round++) {
    const calls = Array.from({ length: 50 }, async () => await client.incr(key).then(() => 'ok', (err: Error & { code?: string }) => err.code ?? err.message))
    // Commands of one turn are written when its I/O callbacks are done; then
    // the instance is busy while Redis answers within a millisecond, and reads
    // the replies only after. Every other round it is busy before that, with
    // the last commands of the turn still waiting to be written.
    await new Promise<void>((resolve) => round % 2 === 0 ? setImmediate(resolve) : process.nextTick(resolve))
    busy(DEADLINE * 2)
    const outcomes = await Promise.all(calls)
    t.same(outcomes.filter((o) => o !== 'ok'), [], `round ${round}: every command answered by a healthy Redis succeeds`)
  }
  t.equal(Number(await client.get(key)), 250, 'every increment applied')
  t.equal(app.redkit.stats().timeouts, 0, 'no deadline counted')
  t.equal((await app.redkit.health()).status, 'ok')
})
