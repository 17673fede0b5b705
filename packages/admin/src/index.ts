import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { readDescriptions, registerDescribedMetrics } from './described.js'
import { buildRegistry, newRegistry } from './metrics.js'
import { checkOptions, type AdminOptions } from './options.js'
import { dashboardRoute, healthRoutes, notRegisteredRoute, protectedRoutes, type AdminState } from './routes.js'

const plugin: FastifyPluginAsync<AdminOptions> = async (app: FastifyInstance, options) => {
  const opts = checkOptions(options)
  if (opts.authDisabled) {
    app.log.warn({ prefix: opts.prefix || '/' }, 'redkit admin: authentication is DISABLED; anyone who reaches these routes can revoke sessions')
  }
  const state: AdminState = { described: new Map(), registry: undefined }
  if (opts.metrics) state.registry = buildRegistry(opts.registry ?? newRegistry(), app.redkit)
  // Packages may be registered after this one (their routes are mounted as they describe
  // themselves, see routes.ts); their stats and metrics are read once everything is loaded.
  app.addHook('onReady', async () => {
    state.described = readDescriptions(app)
    if (state.registry !== undefined) registerDescribedMetrics(state.registry, state.described)
    app.log.debug({ described: [...state.described.keys()] }, 'redkit admin: ready')
  })

  await app.register(healthRoutes(opts), { prefix: opts.prefix })
  if (opts.healthPrefix !== undefined) await app.register(healthRoutes(opts), { prefix: opts.healthPrefix })
  if (opts.dashboard) await app.register(dashboardRoute(), { prefix: opts.prefix })
  await app.register(protectedRoutes(opts, state), { prefix: opts.prefix })
  if (opts.prefix !== '') await app.register(notRegisteredRoute(opts), { prefix: opts.prefix })
}

export const redkitAdmin = fp(plugin, {
  name: '@redkit/admin',
  fastify: '5.x',
  dependencies: ['@redkit/core']
})
export default redkitAdmin

export {
  checkOptions, DEFAULT_PREFIX, DEFAULT_READY_TIMEOUT, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, DEFAULT_SLOWLOG_COUNT,
  MAX_SLOWLOG_COUNT, MIN_TOKEN_LENGTH, type AdminOptions, type AdminAuthHook
} from './options.js'
export { parseInfo, INFO_SECTIONS, type InfoSection, type NodeInfo, type SlowlogEntry } from './redis-info.js'
export * from './errors.js'
