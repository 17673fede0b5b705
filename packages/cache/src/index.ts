import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { describeCache } from './admin.js'
import type { BackendEvents } from './backend.js'
import type { Cache } from './cache.js'
import { CacheEngine } from './engine.js'
import { createBackend } from './factory.js'
import { checkOptions, type CacheOptions } from './options.js'
import { installRouteCache } from './route.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Cache of the default namespace; `app.cache.ns(name)` for others. */
    cache: Cache
  }
}

const plugin: FastifyPluginAsync<CacheOptions> = async (app: FastifyInstance, opts) => {
  const options = checkOptions(opts)
  const redkit = app.redkit
  // Change messages may arrive while the backend starts, before the engine exists.
  const started: { engine?: CacheEngine } = {}
  const events: BackendEvents = {
    onChange: (message) => started.engine?.onChange(message),
    onReset: () => started.engine?.onReset()
  }
  const backend = await createBackend(redkit, { log: app.log, events, memory: options.memory, l1: options.l1 !== null })
  const cacheEngine = new CacheEngine(backend, options, redkit.prefix, redkit.instanceId, app.log)
  started.engine = cacheEngine
  const cache = cacheEngine.handle(options.namespace)
  app.decorate('cache', cache)
  app.redkit.describe(describeCache(cache))
  installRouteCache(app, cacheEngine, options)
  app.addHook('onClose', async () => { await cacheEngine.close() })
}

export const redkitCache = fp(plugin, { name: '@redkit/cache', fastify: '5.x', dependencies: ['@redkit/core'] })
export default redkitCache

export { jsonSerializer, type Serializer } from './serializer.js'
export { Cacheable, CacheInvalidate, type CacheableOptions, type CacheInvalidateOptions, type DecoratorSource } from './decorators.js'
export type { Cache, CacheStats, NamespaceStats, SetOptions, WrapOptions, InvalidateOptions, CachedOptions } from './cache.js'
export type { CacheOptions, L1Options, MemoryOptions } from './options.js'
export type { RouteCacheOptions, RouteInvalidateOptions } from './route.js'
export { CacheInvalidOptionError, CacheInvalidArgumentError, CacheNotSerializableError, CacheTooLargeError } from './errors.js'
