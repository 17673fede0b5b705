import { test } from 'tap'
import { buildApp } from './helpers.js'

test('describes its counters to core, read from the limiter at each call', async (t) => {
  const app = await buildApp(t, { mode: 'memory', env: {} })
  const described = app.redkit.descriptions().find((d) => d.name === 'rate-limit')
  t.ok(described, 'described')
  t.equal(described!.package, '@redkit/rate-limit')
  t.same(described!.metrics!.map((m) => m.name), [
    'redkit_rate_limit_checks_total', 'redkit_rate_limit_allowed_total', 'redkit_rate_limit_denied_total',
    'redkit_rate_limit_failed_open_total', 'redkit_rate_limit_failed_closed_total', 'redkit_rate_limit_deadline_misses_total'
  ])
  await app.limiter.check('k', { limit: 1 })
  await app.limiter.check('k', { limit: 1 })
  const stats = described!.stats()
  t.same(stats, { checks: 2, allowed: 1, denied: 1, failedOpen: 0, failedClosed: 0, deadlineMisses: 0 })
  const samples = Object.fromEntries(described!.metrics!.map((m) => [m.name, m.read(stats)]))
  t.same(samples.redkit_rate_limit_denied_total, [[{}, 1]])
  t.same(Object.keys((described!.statsSchema as { properties: Record<string, unknown> }).properties), Object.keys(stats as object), 'the schema declares every counter')
})
