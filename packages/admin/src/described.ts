import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { RedkitDescription, RedkitRouteErrors, RedkitSample } from '@redkit/core'
import { AdminInvalidCursorError, AdminInvalidIdError, AdminInvalidOptionError, AdminNotFoundError, AdminNotRegisteredError } from './errors.js'
import { mirroredCounter, mirroredGauge } from './metrics.js'
import { TAGS, errors } from './schemas-common.js'

/*
 * Whatever a package described to core with `app.redkit.describe()`: its
 * routes, its stats route, its Prometheus series and its dashboard panel.
 * Admin knows nothing of the package beyond its description, so a package
 * it has never heard of shows up with no change here.
 */

export type Described = Map<string, RedkitDescription<unknown>>

/** The vocabulary described routes answer with: admin's own error codes. */
const ROUTE_ERRORS: RedkitRouteErrors = {
  notFound: (what) => new AdminNotFoundError(what),
  invalidId: (what) => new AdminInvalidIdError(what),
  invalidCursor: () => new AdminInvalidCursorError()
}

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

/**
 * One stats snapshot per scrape for all the metrics of a description: they
 * are collected concurrently, and stats may cost a Redis round trip. A
 * failing read leaves the description's series out of this scrape only.
 */
function snapshots (d: RedkitDescription<unknown>): () => Promise<{ stats: unknown } | undefined> {
  let pending: Promise<{ stats: unknown } | undefined> | undefined
  return async () => {
    if (pending === undefined) {
      const read = (async () => ({ stats: await d.stats() }))().catch(() => undefined)
      pending = read
      read.then(() => { pending = undefined }, () => {})
    }
    return await pending
  }
}

/** Adds each described metric to the registry; a name already taken is a configuration error. */
export function registerDescribedMetrics (registry: Registry, described: Described): void {
  for (const d of described.values()) {
    const snapshot = snapshots(d)
    for (const m of d.metrics ?? []) {
      if (registry.getSingleMetric(m.name) !== undefined) {
        throw new AdminInvalidOptionError(`${d.package} describes the metric ${m.name}, which is already registered`)
      }
      const read = async (): Promise<RedkitSample[]> => {
        const taken = await snapshot()
        return taken === undefined ? [] : m.read(taken.stats)
      }
      if (m.type === 'counter') mirroredCounter(registry, m.name, m.help, m.labelNames ?? [], read)
      else mirroredGauge(registry, m.name, m.help, m.labelNames ?? [], read)
    }
  }
}

/**
 * Serves the routes of one description under admin's prefix and hooks. Called
 * for descriptions given before admin and, through core, for those given by
 * packages registered after it (still before the app starts).
 */
export function mountDescribedRoutes (app: FastifyInstance, d: RedkitDescription<unknown>): void {
  for (const route of d.routes ?? []) {
    const { response, ...input } = route.schema
    try {
      app.route({
        method: route.method,
        url: route.url,
        schema: { tags: TAGS, summary: route.summary, ...input, response: { 200: response, ...errors } },
        config: { changesState: route.changesState ?? route.method !== 'GET' },
        handler: async (request) => await route.handler(request, ROUTE_ERRORS)
      })
    } catch (err) {
      throw new AdminInvalidOptionError(`${d.package} describes ${route.method} ${route.url}, which admin cannot serve: ${(err as Error).message}`)
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
    return await d.stats()
  })
}
