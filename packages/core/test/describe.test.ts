import { test } from 'tap'
import type { RedkitDescription, RedkitPanelRowAction, RedkitPanelValue, RedkitRouteDescription } from '../src/index.js'
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

const route: RedkitRouteDescription = {
  method: 'GET',
  url: '/widgets/:id',
  summary: 'One widget',
  schema: { response: { type: 'object' } },
  handler: () => ({})
}

test('describe refuses a duplicate name and malformed descriptions with a coded error', async (t) => {
  const { app } = await buildApp(t, {})
  app.redkit.describe({ ...widgets, routes: [route] })
  t.throws(() => app.redkit.describe(widgets), { code: 'FST_REDKIT_DUPLICATE_DESCRIPTION', message: /widgets is already described by widgets-plugin/ })
  t.throws(() => app.redkit.describe({ ...widgets, name: 'other', routes: [route] }),
    { code: 'FST_REDKIT_DUPLICATE_DESCRIPTION', message: /route GET \/widgets\/:id of widgets-plugin is already described/ })
  const at = (over: Partial<RedkitRouteDescription>): RedkitRouteDescription[] => [{ ...route, url: '/x', ...over }]
  const bad: Array<Partial<RedkitDescription<any>>> = [
    { ...widgets, name: 'Bad Name' },
    { ...widgets, name: 'x', package: '' },
    { ...widgets, name: 'x', stats: 1 as unknown as () => unknown },
    { ...widgets, name: 'x', statsSchema: null as unknown as Record<string, unknown> },
    { ...widgets, name: 'x', metrics: [{ name: 'bad name', type: 'counter', help: '', read: () => [] }] },
    { ...widgets, name: 'x', metrics: [{ name: 'ok', type: 'histogram' as 'gauge', help: '', read: () => [] }] },
    { ...widgets, name: 'x', routes: {} as unknown as RedkitRouteDescription[] },
    { ...widgets, name: 'x', routes: at({ method: 'TRACE' as 'GET' }) },
    { ...widgets, name: 'x', routes: at({ url: 'no-slash' }) },
    { ...widgets, name: 'x', routes: at({ url: '/a//b' }) },
    { ...widgets, name: 'x', routes: at({ summary: '' }) },
    { ...widgets, name: 'x', routes: at({ handler: 'no' as unknown as () => unknown }) },
    { ...widgets, name: 'x', routes: at({ schema: {} as RedkitRouteDescription['schema'] }) },
    { ...widgets, name: 'x', routes: at({ schema: { response: {}, params: 'id' as unknown as Record<string, unknown> } }) },
    { ...widgets, name: 'x', routes: at({ method: 'DELETE', changesState: false }) },
    { ...widgets, name: 'x', routes: [...at({}), ...at({})] },
    { ...widgets, name: 'x', panel: { title: 'X', lists: [{ url: '/nowhere', path: 'rows', columns: [] }] } },
    { ...widgets, name: 'x', routes: at({}), panel: { title: 'X', actions: [{ label: 'Go', method: 'POST', url: '/x', done: 'ok' }] } },
    { ...widgets, name: 'x', panel: { title: 'X', values: [{ label: 'no path' } as unknown as RedkitPanelValue] } },
    { ...widgets, name: 'x', routes: at({}), panel: { title: 'X', lists: [{ url: '/x', path: 'rows', columns: [], filter: null as unknown as { label: string, url: string } }] } },
    { ...widgets, name: 'x', routes: at({}), panel: { title: 'X', lists: [{ url: '/x', path: 'rows', columns: [], rowActions: [null as unknown as RedkitPanelRowAction] }] } }
  ]
  for (const d of bad) {
    t.throws(() => app.redkit.describe(d as RedkitDescription), { code: 'FST_REDKIT_INVALID_DESCRIPTION' }, JSON.stringify(d.routes ?? d.panel ?? d.name))
  }
  t.same(app.redkit.descriptions().map((d) => d.name), ['widgets'])
})

test('onDescribe sees the descriptions given before and after it', async (t) => {
  const { app } = await buildApp(t, {})
  app.redkit.describe(widgets)
  const seen: string[] = []
  app.redkit.onDescribe((d) => seen.push(d.name))
  t.same(seen, ['widgets'])
  app.redkit.describe({ ...widgets, name: 'gears', stats: async () => ({ spins: 1 }), routes: [route] })
  t.same(seen, ['widgets', 'gears'])
  t.same(await app.redkit.descriptions()[1]!.stats(), { spins: 1 }, 'stats may be asynchronous')
})
