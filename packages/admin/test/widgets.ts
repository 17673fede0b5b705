import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

interface WidgetStats { spins: number, secret: string, shops: Record<string, { sold: number }> }

/** A package admin has never heard of: it only describes itself to core. */
export const widgets = fp(async (app: FastifyInstance) => {
  const stats: WidgetStats = { spins: 0, secret: 'not-in-the-schema', shops: { north: { sold: 4 }, south: { sold: 9 } } }
  app.decorate('spin', () => { stats.spins++ })
  app.redkit.describe<WidgetStats>({
    name: 'widgets',
    package: 'acme-widgets',
    stats: () => stats,
    statsSchema: {
      type: 'object',
      properties: {
        spins: { type: 'integer' },
        shops: { type: 'object', additionalProperties: { type: 'object', properties: { sold: { type: 'integer' } } } }
      }
    },
    metrics: [
      { name: 'redkit_widgets_spins_total', type: 'counter', help: 'Widget spins since start', read: (s) => [[{}, s.spins]] },
      {
        name: 'redkit_widgets_sold',
        type: 'gauge',
        help: 'Widgets sold per shop',
        labelNames: ['shop'],
        read: (s) => Object.entries(s.shops).map(([shop, v]) => [{ shop }, v.sold])
      }
    ],
    panel: {
      title: 'Widgets',
      values: [{ label: 'Spins', path: 'spins' }],
      tables: [{ path: 'shops', keyLabel: 'Shop', columns: [{ label: 'Sold', path: 'sold' }] }]
    }
  })
}, { name: 'acme-widgets', dependencies: ['@redkit/core'] })
