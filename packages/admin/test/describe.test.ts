import { test } from 'tap'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { AUTH, build } from './helpers.js'
import { widgets } from './widgets.js'

const memory = { mode: 'memory' as const, env: {} }

test('a package that describes itself shows in the stats route, /metrics and the dashboard, registered after admin', async (t) => {
  const { app } = await build(t, memory, { packages: [], extra: async (app) => { await app.register(widgets) } })
  const spin = (app as unknown as { spin: () => void }).spin
  spin(); spin(); spin()

  const stats = await app.inject({ url: '/admin/packages/widgets/stats', headers: AUTH })
  t.equal(stats.statusCode, 200)
  t.same(stats.json(), { spins: 3, shops: { north: { sold: 4 }, south: { sold: 9 } } })
  t.notOk(stats.body.includes('not-in-the-schema'), 'fields outside the schema are not sent')
  t.equal((await app.inject({ url: '/admin/packages/widgets/stats' })).statusCode, 401, 'behind the admin credentials')

  const missing = await app.inject({ url: '/admin/packages/gadgets/stats', headers: AUTH })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FST_REDKIT_ADMIN_NOT_REGISTERED')

  const metrics = (await app.inject({ url: '/admin/metrics', headers: AUTH })).body
  t.match(metrics, /# HELP redkit_widgets_spins_total Widget spins since start\n# TYPE redkit_widgets_spins_total counter\nredkit_widgets_spins_total 3\n/)
  t.match(metrics, /redkit_widgets_sold\{shop="north"\} 4\n/)
  t.match(metrics, /redkit_widgets_sold\{shop="south"\} 9\n/)
  spin()
  t.match((await app.inject({ url: '/admin/metrics', headers: AUTH })).body, /redkit_widgets_spins_total 4\n/, 'read at scrape time')

  const listed = await app.inject({ url: '/admin/packages', headers: AUTH })
  t.equal(listed.statusCode, 200)
  t.same(listed.json().packages, [{
    name: 'widgets',
    package: 'acme-widgets',
    metrics: ['redkit_widgets_spins_total', 'redkit_widgets_sold'],
    panel: {
      title: 'Widgets',
      values: [{ label: 'Spins', path: 'spins' }],
      tables: [{ path: 'shops', keyLabel: 'Shop', columns: [{ label: 'Sold', path: 'sold' }] }]
    }
  }])
  const page = (await app.inject({ url: '/admin/' })).body
  t.match(page, /id="described"/, 'the dashboard has a place for described panels')
  t.match(page, /api\('packages'\)/, 'and loads them from GET packages')
})

test('a described metric whose name admin already serves fails at ready with a coded error', async (t) => {
  const clash = fp(async (app: FastifyInstance) => {
    app.redkit.describe({
      name: 'clash',
      package: 'clash',
      stats: () => ({}),
      statsSchema: { type: 'object' },
      metrics: [{ name: 'redkit_redis_commands_total', type: 'counter', help: 'again', read: () => [] }]
    })
  }, { name: 'clash', dependencies: ['@redkit/core'] })
  await t.rejects(build(t, memory, { packages: [], extra: async (app) => { await app.register(clash) } }),
    { code: 'FST_REDKIT_ADMIN_INVALID_OPTION', message: /clash describes the metric redkit_redis_commands_total/ })
})

test('without metrics, descriptions still give their routes', async (t) => {
  const { app } = await build(t, memory, { packages: [], admin: { token: 'test-admin-token-0123456789abcdef', metrics: false }, extra: async (app) => { await app.register(widgets) } })
  t.equal((await app.inject({ url: '/admin/packages/widgets/stats', headers: AUTH })).json().spins, 0)
})
