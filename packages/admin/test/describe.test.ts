import { test } from 'tap'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { RedkitDescription } from '@redkit/core'
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

/** A package describing `what` besides its stats, registered after admin. */
function clashing (what: Partial<RedkitDescription>) {
  return fp(async (app: FastifyInstance) => {
    app.redkit.describe({ name: 'clash', package: 'clash', stats: () => ({}), statsSchema: { type: 'object' }, ...what })
  }, { name: 'clash', dependencies: ['@redkit/core'] })
}

test('a described metric whose name admin already serves fails at ready with a coded error', async (t) => {
  const clash = clashing({ metrics: [{ name: 'redkit_redis_commands_total', type: 'counter', help: 'again', read: () => [] }] })
  await t.rejects(build(t, memory, { packages: [], extra: async (app) => { await app.register(clash) } }),
    { code: 'FST_REDKIT_ADMIN_INVALID_OPTION', message: /clash describes the metric redkit_redis_commands_total/ })
})

test('without metrics, descriptions still give their routes', async (t) => {
  const { app } = await build(t, memory, { packages: [], admin: { token: 'test-admin-token-0123456789abcdef', metrics: false }, extra: async (app) => { await app.register(widgets) } })
  t.equal((await app.inject({ url: '/admin/packages/widgets/stats', headers: AUTH })).json().spins, 0)
})

// A package admin has never heard of, registered after it, that describes routes.
const gadgets = fp(async (app: FastifyInstance) => {
  const stock = new Map([['g1', 3]])
  app.redkit.describe({
    name: 'gadgets',
    package: 'acme-gadgets',
    stats: async () => ({ kinds: stock.size }),
    statsSchema: { type: 'object', properties: { kinds: { type: 'integer' } } },
    routes: [{
      method: 'GET',
      url: '/gadgets/:id',
      summary: 'One gadget',
      schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: 8 } } }, response: { type: 'object', properties: { id: { type: 'string' }, stock: { type: 'integer' } } } },
      handler: async ({ params }, errors) => {
        if (params.id === 'bad') throw errors.invalidId('gadget id')
        const found = stock.get(params.id)
        if (found === undefined) throw errors.notFound('gadget')
        return { id: params.id, stock: found, internal: 'not-in-the-schema' }
      }
    }, {
      method: 'DELETE',
      url: '/gadgets/:id',
      summary: 'Forgets a gadget',
      schema: { response: { type: 'object', properties: { removed: { type: 'boolean' } } } },
      handler: async ({ params }) => ({ removed: stock.delete(params.id) })
    }, {
      method: 'GET',
      url: '/gadgets-restock',
      summary: 'Restocks (a GET that changes state)',
      changesState: true,
      schema: { response: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      handler: async () => ({ ok: true })
    }]
  })
}, { name: 'acme-gadgets', dependencies: ['@redkit/core'] })

test('routes a package describes are served under admin, behind its credentials and its cross-site check', async (t) => {
  const { app, routes } = await build(t, memory, { packages: [], extra: async (app) => { await app.register(gadgets) } })
  t.ok(routes.some((r) => r.method === 'DELETE' && r.url === '/admin/gadgets/:id'), 'mounted under the prefix')
  const got = await app.inject({ url: '/admin/gadgets/g1', headers: AUTH })
  t.equal(got.statusCode, 200)
  t.same(got.json(), { id: 'g1', stock: 3 }, 'serialized with the described reply schema')
  t.equal((await app.inject({ url: '/admin/gadgets/g1' })).json().code, 'FST_REDKIT_ADMIN_UNAUTHORIZED')
  const missing = await app.inject({ url: '/admin/gadgets/g9', headers: AUTH })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FST_REDKIT_ADMIN_NOT_FOUND')
  const bad = await app.inject({ url: '/admin/gadgets/bad', headers: AUTH })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'FST_REDKIT_ADMIN_INVALID_ID')
  t.equal((await app.inject({ url: '/admin/gadgets/far-too-long', headers: AUTH })).statusCode, 400, 'params validated')

  const crossSite = { ...AUTH, 'sec-fetch-site': 'cross-site' }
  t.equal((await app.inject({ method: 'DELETE', url: '/admin/gadgets/g1', headers: crossSite })).json().code, 'FST_REDKIT_ADMIN_CROSS_SITE')
  t.equal((await app.inject({ url: '/admin/gadgets-restock', headers: crossSite })).json().code, 'FST_REDKIT_ADMIN_CROSS_SITE',
    'a GET that says it changes state is checked too')
  t.equal((await app.inject({ url: '/admin/gadgets/g1', headers: crossSite })).statusCode, 200, 'a plain GET is not')
  t.same((await app.inject({ method: 'DELETE', url: '/admin/gadgets/g1', headers: AUTH })).json(), { removed: true })
  t.same((await app.inject({ url: '/admin/packages/gadgets/stats', headers: AUTH })).json(), { kinds: 0 }, 'asynchronous stats')
})

test('a described route admin already serves fails with a coded error', async (t) => {
  const clash = clashing({ routes: [{ method: 'GET', url: '/overview', summary: 'again', schema: { response: { type: 'object' } }, handler: () => ({}) }] })
  await t.rejects(build(t, memory, { packages: [], extra: async (app) => { await app.register(clash) } }),
    { code: 'FST_REDKIT_ADMIN_INVALID_OPTION', message: /clash describes GET \/overview/ })
})

test('admin knows the other packages only through core: it imports and depends on no other @redkit package', async (t) => {
  const { readdirSync, readFileSync } = await import('node:fs')
  const src = new URL('../src/', import.meta.url)
  for (const file of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
    const imported = [...readFileSync(new URL(file, src), 'utf8').matchAll(/from '(@redkit\/[^']+)'/g)].map((m) => m[1]!)
    t.ok(imported.every((name) => name === '@redkit/core' || name.startsWith('@redkit/core/')), `${file}: ${imported.join(', ')}`)
  }
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>
  const runtime = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})].filter((n) => n.startsWith('@redkit/'))
  t.same(runtime, ['@redkit/core'])
})

test('a description whose stats fail leaves only its own series out of a scrape', async (t) => {
  const failing = clashing({
    stats: async () => { throw new Error('redis is down') },
    metrics: [{ name: 'redkit_clash_things', type: 'gauge', help: 'Things', read: () => [[{}, 1]] }]
  })
  const { app } = await build(t, memory, { packages: ['session'], extra: async (app) => { await app.register(failing) } })
  const res = await app.inject({ url: '/admin/metrics', headers: AUTH })
  t.equal(res.statusCode, 200)
  t.notOk(/redkit_clash_things 1/.test(res.body), 'no value read from stats that failed')
  t.match(res.body, /redkit_sessions 0\n/, 'the other packages are read')
  t.match(res.body, /redkit_redis_up 1\n/)
})
