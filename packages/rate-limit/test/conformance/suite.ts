import { startRedis } from '@redkit/testing'
import { runConformance, type Mode, type PeerTest } from './run.js'

interface TapLike {
  teardown: (fn: () => unknown) => void
  test: (name: string, fn: (t: TapLike) => Promise<void>) => Promise<unknown>
  pass: (message: string) => void
  fail: (message: string, extra?: object) => void
  ok: (value: boolean, message: string) => void
  skip: (message: string) => void
  comment: (message: string) => void
}

const MODES: Array<[Mode, string]> = [
  ['mirror', 'Redis (tests that pass `redis` on Redis, the rest on memory, as the built-in stores split them)'],
  ['memory', 'memory']
]

/**
 * Runs @fastify/rate-limit's own test files against the redkit store with one
 * algorithm, on Redis and on memory, and reports each of its tests as a test
 * point: passed, failed, or skipped by name with the reason.
 */
export async function conformance (t: TapLike, algorithm: string, skip: Record<string, string>,
  memorySkip: Record<string, string>, minimum: { mirror: number, memory: number }): Promise<void> {
  const servers = await Promise.all(MODES.map(async () => await startRedis()))
  t.teardown(async () => { await Promise.all(servers.map(async (s) => { await s.stop() })) })
  const runs = await Promise.all(MODES.map(async ([mode], i) =>
    await runConformance({ mode, algorithm, port: servers[i]!.port, skip: mode === 'memory' ? { ...skip, ...memorySkip } : skip })))
  for (const [i, [mode, label]] of MODES.entries()) {
    const results = runs[i]!
    await t.test(`@fastify/rate-limit ${algorithm}, ${mode}`, async (t) => report(t, results, `${algorithm}, ${label}`, minimum[mode as 'mirror' | 'memory']))
  }
}

function report (t: TapLike, results: PeerTest[], label: string, minimum: number): void {
  const passed = results.filter((r) => r.ok && r.skip === undefined)
  const skipped = results.filter((r) => r.skip !== undefined)
  for (const r of results) {
    const name = `${r.file}: ${r.path}`
    if (r.skip !== undefined) t.skip(`${name} (${r.skip === 'true' ? 'skipped by @fastify/rate-limit itself' : r.skip})`)
    else if (r.ok) t.pass(name)
    else t.fail(name, { error: r.error })
  }
  const summary = `@fastify/rate-limit's own tests on the redkit store, ${label}: ${passed.length} of ${results.length} pass, ${skipped.length} skipped`
  t.comment(summary)
  process.stderr.write(`# ${summary}\n`)
  for (const r of skipped) {
    process.stderr.write(`#   skipped ${r.file}: ${r.path} — ${r.skip === 'true' ? 'skipped by @fastify/rate-limit itself' : r.skip}\n`)
  }
  t.ok(passed.length >= minimum, `at least ${minimum} pass`)
}
