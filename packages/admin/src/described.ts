import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { RedkitDescription } from '@redkit/core'
import { AdminInvalidOptionError, AdminNotRegisteredError } from './errors.js'
import { mirroredCounter, mirroredGauge } from './metrics.js'
import { TAGS, errors } from './schemas-common.js'

/*
 * Whatever a package described to core with `app.redkit.describe()`: its stats
 * route, its Prometheus series and its dashboard panel. Admin knows nothing
 * of the package beyond its description, so a package it has never heard of
 * shows up with no change here.
 */

export type Described = Map<string, RedkitDescription<unknown>>

const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' } },
  required: ['name']
}

const describedListSchema = {
  tags: TAGS,
  summary: 'Packages that described themselves to redkit, with their dashboard panels',
  response: {
    200: {
      type: 'object',
      properties: {
        packages: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              package: { type: 'string' },
              metrics: { type: 'array', items: { type: 'string' } },
              panel: { type: 'object', additionalProperties: true }
            }
          }
        }
      }
    },
    ...errors
  }
}

const describedStatsSchema = {
  tags: TAGS,
  summary: 'Stats of a package, in the shape its description declares',
  params: nameParams,
  // The package's own statsSchema serializes the reply (see the handler); this documents the route.
  response: { 200: { type: 'object', additionalProperties: true }, ...errors }
}

/** The descriptions core holds once the app is ready (packages may register after admin). */
export function readDescriptions (app: FastifyInstance): Described {
  return new Map(app.redkit.descriptions().map((d) => [d.name, d]))
}

/** Adds each described metric to the registry; a name already taken is a configuration error. */
export function registerDescribedMetrics (registry: Registry, described: Described): void {
  for (const d of described.values()) {
    for (const m of d.metrics ?? []) {
      if (registry.getSingleMetric(m.name) !== undefined) {
        throw new AdminInvalidOptionError(`${d.package} describes the metric ${m.name}, which is already registered`)
      }
      const read = (): ReturnType<typeof m.read> => m.read(d.stats())
      if (m.type === 'counter') mirroredCounter(registry, m.name, m.help, m.labelNames ?? [], read)
      else mirroredGauge(registry, m.name, m.help, m.labelNames ?? [], read)
    }
  }
}

/** GET /packages and GET /packages/:name/stats, read from the descriptions at request time. */
export function describedRoutes (app: FastifyInstance, described: () => Described): void {
  app.get('/packages', { schema: describedListSchema }, async () => ({
    packages: [...described().values()].map((d) => ({
      name: d.name,
      package: d.package,
      metrics: (d.metrics ?? []).map((m) => m.name),
      panel: d.panel
    }))
  }))

  app.get<{ Params: { name: string } }>('/packages/:name/stats', { schema: describedStatsSchema }, async (request, reply) => {
    const d = described().get(request.params.name)
    if (d === undefined) throw new AdminNotRegisteredError(`package ${request.params.name}`)
    // Serialized with the package's own schema: fields it does not declare are not sent.
    reply.serializer(reply.compileSerializationSchema(d.statsSchema, '200'))
    return d.stats()
  })
}
