import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { readDescriptions, registerDescribedMetrics } from './described.js'
import { buildRegistry, newRegistry } from './metrics.js'
import { checkOptions, type AdminOptions } from './options.js'
import { detectPackages, PACKAGE_NAMES, type Packages } from './packages.js'
import { dashboardRoute, healthRoutes, protectedRoutes, type AdminState } from './routes.js'

const plugin: FastifyPluginAsync<AdminOptions> = async (app: FastifyInstance, options) => {
  const opts = checkOptions(options)
  if (opts.authDisabled) {
    app.log.warn({ prefix: opts.prefix || '/' }, 'redkit admin: authentication is DISABLED; anyone who reaches these routes can revoke sessions')
  }
  const state: AdminState = { packages: {}, described: new Map(), registry: undefined }
  if (opts.metrics) {
    state.registry = buildRegistry(opts.registry ?? newRegistry(), { redkit: app.redkit, packages: () => state.packages })
  }
  // Packages may be registered after this one; look for them once everything is loaded.
  app.addHook('onReady', async () => {
    state.packages = detectPackages(app)
    state.described = readDescriptions(app)
    if (state.registry !== undefined) registerDescribedMetrics(state.registry, state.described)
    const found = (Object.keys(state.packages) as Array<keyof Packages>).map((name) => PACKAGE_NAMES[name])
    app.log.debug({ packages: found, described: [...state.described.keys()] }, 'redkit admin: ready')
  })

  await app.register(healthRoutes(opts), { prefix: opts.prefix })
  if (opts.healthPrefix !== undefined) await app.register(healthRoutes(opts), { prefix: opts.healthPrefix })
  if (opts.dashboard) await app.register(dashboardRoute(), { prefix: opts.prefix })
  await app.register(protectedRoutes(opts, state), { prefix: opts.prefix })
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
export type { SessionInfo, SessionPage, SessionStats, CleanupReport, SessionsApi, SessionMetaLike } from './sessions.js'
export * from './errors.js'
