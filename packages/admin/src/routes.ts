import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { authHook, sameOriginHook } from './auth.js'
import { dashboardPage } from './dashboard.js'
import { describedRoutes, mountDescribedRoutes, type Described } from './described.js'
import { AdminNotRegisteredError } from './errors.js'
import type { ResolvedAdminOptions } from './options.js'
import { redisInfo, slowlog } from './redis-info.js'
import * as schemas from './schemas.js'

export interface AdminState {
  described: Described
  registry: Registry | undefined
}

/** GET /health and GET /ready; public, so orchestrators can probe without credentials. */
export function healthRoutes (options: ResolvedAdminOptions) {
  return async function redkitAdminHealth (app: FastifyInstance): Promise<void> {
    app.get('/health', { schema: schemas.healthSchema }, async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }))
    app.get('/ready', { schema: schemas.readySchema }, async (request, reply) => {
      const health = await withDeadline(app, options.readyTimeout)
      if (health.status !== 'ok') {
        request.log.warn({ err: health.error }, 'redkit admin: not ready, Redis did not answer the ping')
        reply.code(503)
      }
      return health
    })
  }
}

async function withDeadline (app: FastifyInstance, ms: number): Promise<{ status: 'ok' | 'down', mode: string, latencyMs: number, error?: string }> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<{ status: 'down', mode: string, latencyMs: number, error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', mode: app.redkit.mode, latencyMs: ms, error: `no reply within ${ms} ms` }), ms)
  })
  try {
    return await Promise.race([app.redkit.health(), late])
  } finally {
    clearTimeout(timer)
  }
}

/** The dashboard shell: static HTML with no data, so it can load before the user signs in. */
export function dashboardRoute () {
  const page = dashboardPage()
  return async function redkitAdminDashboard (app: FastifyInstance): Promise<void> {
    app.get('/', { schema: schemas.dashboardSchema }, async (request, reply) => {
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', page.csp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
      return page.html
    })
  }
}

/**
 * Under a prefix of its own, an unknown admin URL is most likely the route of
 * a package that is not registered. Credentials come first, as on every admin
 * route, so a caller without them cannot learn which packages the app runs.
 */
export function notRegisteredRoute (options: ResolvedAdminOptions) {
  return async function redkitAdminNotRegistered (app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', sameOriginHook(options))
    app.addHook('onRequest', authHook(options))
    app.setNotFoundHandler(async (request) => {
      throw new AdminNotRegisteredError(`a route for ${request.method} ${request.url.split('?')[0]!}`)
    })
  }
}

/** Everything else; each route requires credentials. */
export function protectedRoutes (options: ResolvedAdminOptions, state: AdminState) {
  return async function redkitAdminRoutes (app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', sameOriginHook(options))
    app.addHook('onRequest', authHook(options))
    const { redkit } = app

    app.get('/overview', { schema: schemas.overviewSchema }, async () => ({
      mode: redkit.mode,
      cluster: redkit.isCluster,
      prefix: redkit.prefix,
      instanceId: redkit.instanceId,
      health: await redkit.health(),
      stats: redkit.stats(),
      packages: Object.fromEntries([...state.described.keys()].map((name) => [name, true]))
    }))

    app.get('/redis/info', { schema: schemas.infoSchema }, async () =>
      ({ nodes: redkit.client === null ? [] : await redisInfo(redkit.client) }))

    app.get<{ Querystring: { count: number } }>('/redis/slowlog', { schema: schemas.slowlogSchema }, async (request) =>
      ({ nodes: redkit.client === null ? [] : await slowlog(redkit.client, request.query.count) }))

    describedRoutes(app, () => state.described)

    if (state.registry !== undefined) {
      const registry = state.registry
      app.get('/metrics', { schema: schemas.metricsSchema }, async (request, reply) => {
        reply.type(registry.contentType)
        return await registry.metrics()
      })
    }
    // Last, so that a package describing one of the routes above gets admin's coded error.
    redkit.onDescribe((d) => { mountDescribedRoutes(app, d) })
  }
}
