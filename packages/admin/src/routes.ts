import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { authHook, sameOriginHook } from './auth.js'
import { dashboardPage } from './dashboard.js'
import { describedRoutes, type Described } from './described.js'
import { AdminInvalidCursorError, AdminInvalidIdError, AdminNotFoundError, AdminNotRegisteredError } from './errors.js'
import type { ResolvedAdminOptions } from './options.js'
import { PACKAGE_NAMES, type Packages } from './packages.js'
import { redisInfo, slowlog } from './redis-info.js'
import * as schemas from './schemas.js'
import { SessionReader } from './sessions.js'

export interface AdminState {
  packages: Packages
  described: Described
  registry: Registry | undefined
}

function need<K extends keyof Packages> (state: AdminState, name: K): NonNullable<Packages[K]> {
  const found = state.packages[name]
  if (found === undefined) throw new AdminNotRegisteredError(PACKAGE_NAMES[name])
  return found as NonNullable<Packages[K]>
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

/** Everything else; each route requires credentials. */
export function protectedRoutes (options: ResolvedAdminOptions, state: AdminState) {
  return async function redkitAdminRoutes (app: FastifyInstance): Promise<void> {
    app.addHook('onRequest', sameOriginHook(options))
    app.addHook('onRequest', authHook(options))
    const { redkit } = app
    let reader: SessionReader | undefined
    const sessions = (): SessionReader => {
      reader ??= new SessionReader(need(state, 'sessions'), redkit.mode)
      return reader
    }

    app.get('/overview', { schema: schemas.overviewSchema }, async () => ({
      mode: redkit.mode,
      cluster: redkit.isCluster,
      prefix: redkit.prefix,
      instanceId: redkit.instanceId,
      health: await redkit.health(),
      stats: redkit.stats(),
      packages: Object.fromEntries(Object.keys(PACKAGE_NAMES).map((name) => [name, state.packages[name as keyof Packages] !== undefined]))
    }))

    app.get('/redis/info', { schema: schemas.infoSchema }, async () =>
      ({ nodes: redkit.client === null ? [] : await redisInfo(redkit.client) }))

    app.get<{ Querystring: { count: number } }>('/redis/slowlog', { schema: schemas.slowlogSchema }, async (request) =>
      ({ nodes: redkit.client === null ? [] : await slowlog(redkit.client, request.query.count) }))

    app.get('/sessions/stats', { schema: schemas.sessionStatsSchema }, async () => await sessions().stats())

    app.get<{ Querystring: { cursor?: string, limit: number } }>('/sessions', { schema: schemas.sessionListSchema },
      async (request) => await sessions().page(request.query.cursor, request.query.limit))

    app.post('/sessions/cleanup', { schema: schemas.cleanupSchema }, async (request) => {
      const report = await sessions().cleanup()
      request.log.info(report, 'redkit admin: session index cleanup')
      return report
    })

    app.get<{ Params: { id: string } }>('/sessions/:id', { schema: schemas.sessionGetSchema }, async (request) => {
      const info = await sessions().get(request.params.id)
      if (info === null) throw new AdminNotFoundError('session')
      return info
    })

    app.delete<{ Params: { id: string } }>('/sessions/:id', { schema: schemas.sessionDeleteSchema }, async (request) => {
      const { id } = request.params
      const info = await sessions().get(id)
      if (info === null) throw new AdminNotFoundError('session')
      await sessions().revoke(id)
      request.log.info({ sessionId: id.slice(0, 6) }, 'redkit admin: session revoked')
      return { sessionId: id, revoked: true }
    })

    app.get<{ Params: { userId: string } }>('/users/:userId/sessions', { schema: schemas.userSessionsSchema }, async (request) => {
      const { userId } = request.params
      return { userId, sessions: await sessions().listByUser(userId) }
    })

    app.delete<{ Params: { userId: string } }>('/users/:userId/sessions', { schema: schemas.userSessionsDeleteSchema }, async (request) => {
      const { userId } = request.params
      const revoked = await sessions().revokeAll(userId)
      request.log.info({ revoked }, 'redkit admin: sessions of a user revoked')
      return { userId, revoked }
    })

    app.get<{ Querystring: { cursor?: string, limit: number } }>('/locks', { schema: schemas.locksSchema }, async (request) => {
      try {
        const { locks, cursor } = await need(state, 'locks').list({ cursor: request.query.cursor, limit: request.query.limit })
        return { locks, nextCursor: cursor }
      } catch (err) {
        if ((err as { code?: unknown }).code === 'FST_REDKIT_LOCK_INVALID_CURSOR') throw new AdminInvalidCursorError()
        throw err
      }
    })

    app.get('/pubsub', { schema: schemas.pubsubSchema }, async () => need(state, 'pubsub').stats())

    app.get('/cache/stats', { schema: schemas.cacheStatsSchema }, async () => need(state, 'cache').stats())

    app.delete<{ Querystring: { tag: string[] } }>('/cache', { schema: schemas.cacheInvalidateSchema }, async (request) => {
      const tags = request.query.tag
      const removed = await need(state, 'cache').invalidate({ tags })
      request.log.info({ tags, removed }, 'redkit admin: cache invalidated by tag')
      return { tags, removed }
    })

    app.get<{ Params: { key: string } }>('/rate-limit/:key', { schema: schemas.rateLimitGetSchema }, async (request) => {
      const key = checkKey(request.params.key)
      return { ...await need(state, 'rateLimit').peek(key), key }
    })

    app.delete<{ Params: { key: string } }>('/rate-limit/:key', { schema: schemas.rateLimitDeleteSchema }, async (request) => {
      const key = checkKey(request.params.key)
      await need(state, 'rateLimit').reset(key)
      request.log.info('redkit admin: rate-limit key reset')
      return { key, reset: true }
    })

    describedRoutes(app, () => state.described)

    if (state.registry !== undefined) {
      const registry = state.registry
      app.get('/metrics', { schema: schemas.metricsSchema }, async (request, reply) => {
        reply.type(registry.contentType)
        return await registry.metrics()
      })
    }
  }
}

function checkKey (key: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new AdminInvalidIdError('rate-limit key: control characters are not allowed')
  return key
}
