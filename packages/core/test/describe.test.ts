import { test } from 'tap'
import type { RedkitDescription } from '../src/index.js'
import { buildApp } from './helpers.js'

const widgets: RedkitDescription<{ spins: number }> = {
  name: 'widgets',
  package: 'widgets-plugin',
  stats: () => ({ spins: 3 }),
  statsSchema: { type: 'object', properties: { spins: { type: 'integer' } } },
  metrics: [{ name: 'redkit_widgets_spins_total', type: 'counter', help: 'Spins', read: (s) => [[{}, s.spins]] }]
}

test('describe keeps what packages hand it, in order', async (t) => {
  const { app } = await buildApp(t, {})
  t.same(app.redkit.descriptions(), [])
  app.redkit.describe(widgets)
  app.redkit.describe({ ...widgets, name: 'gears', metrics: undefined })
  t.same(app.redkit.descriptions().map((d) => d.name), ['widgets', 'gears'])
  t.same(app.redkit.descriptions()[0]!.stats(), { spins: 3 })
})

test('describe refuses a duplicate name and malformed descriptions with a coded error', async (t) => {
  const { app } = await buildApp(t, {})
  app.redkit.describe(widgets)
  const bad: Array<Partial<RedkitDescription<any>>> = [
    { ...widgets },
    { ...widgets, name: 'Bad Name' },
    { ...widgets, name: 'x', package: '' },
    { ...widgets, name: 'x', stats: 1 as unknown as () => unknown },
    { ...widgets, name: 'x', statsSchema: null as unknown as Record<string, unknown> },
    { ...widgets, name: 'x', metrics: [{ name: 'bad name', type: 'counter', help: '', read: () => [] }] },
    { ...widgets, name: 'x', metrics: [{ name: 'ok', type: 'histogram' as 'gauge', help: '', read: () => [] }] }
  ]
  for (const d of bad) {
    t.throws(() => app.redkit.describe(d as RedkitDescription), { code: 'FST_REDKIT_INVALID_OPTION' }, String(d.name))
  }
  t.same(app.redkit.descriptions().map((d) => d.name), ['widgets'])
})
