import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { describeLocks } from './admin.js'
import { createBackend } from './factory.js'
import { LockManager, type Locks } from './locks.js'
import type { Lock } from './lock.js'
import { checkOptions, type LockPluginOptions } from './options.js'
import { routeLocks, type RouteLockOptions } from './route.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Distributed locks and semaphores with fencing tokens. */
    locks: Locks
  }
  interface FastifyRequest {
    /** The lock held for this request by a route's `config.lock`, else null. */
    lock: Lock | null
  }
  interface FastifyContextConfig {
    /** Serialises this route per key: `{ key: (request) => string, ttl, timeout, statusCode }`. */
    lock?: RouteLockOptions
  }
}

const plugin: FastifyPluginAsync<LockPluginOptions> = async (app: FastifyInstance, options) => {
  const opts = checkOptions(options)
  const { redkit } = app
  const backend = createBackend(redkit, { counterTtl: opts.counterTtl })
  const manager = new LockManager(backend, opts, app.log, redkit.instanceId)

  app.decorate('locks', manager)
  app.redkit.describe(describeLocks(manager))
  app.decorateRequest('lock', null)
  app.addHook('onRoute', routeLocks(manager, opts))
  app.addHook('preClose', async () => { await manager.close() })
}

export const locks = fp(plugin, { name: '@redkit/lock', fastify: '5.x', dependencies: ['@redkit/core'] })
export default locks

export { Lock } from './lock.js'
export type { Locks, LockHandle, LockInfo, LockWork, ListOptions, LockPage, LockStats } from './locks.js'
export type { HolderInfo, LockKind } from './backend.js'
export type { LockAdminStats } from './admin.js'
export type { LockPluginOptions, AcquireOptions, OnRedisError } from './options.js'
export type { RouteLockOptions } from './route.js'
export {
  DEFAULT_TTL, DEFAULT_TIMEOUT, DEFAULT_POLL_INTERVAL, DEFAULT_COUNTER_TTL, DEFAULT_STATUS_CODE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
} from './options.js'
export {
  LockTimeoutError, LockLostError, RedisUnavailableError, LockAbortedError, LockInvalidOptionError, LockInvalidNameError,
  LockInvalidCursorError
} from './errors.js'
