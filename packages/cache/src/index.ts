import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { BackendEvents } from './backend.js'
import type { Cache } from './cache.js'
import { CacheEngine } from './engine.js'
import { MemoryBackend } from './memory.js'
import { checkOptions, type CacheOptions } from './options.js'
import { RedisBackend } from './redis.js'
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
  let engine: CacheEngine | undefined
  const events: BackendEvents = {
    onChange: (message) => engine?.onChange(message),
    onReset: () => engine?.onReset()
  }
  if (redkit.mode === 'redis') {
    const backend = new RedisBackend(redkit, app.log, events)
    engine = new CacheEngine(backend, options, redkit.prefix, redkit.instanceId, app.log)
    await backend.syncClock()
    if (engine.l1Enabled) {
      // L1 copies are only trusted while change messages arrive, so listen before serving.
      await backend.listen().catch(() => {})
    }
  } else {
    engine = new CacheEngine(new MemoryBackend(options.memory.max, options.memory.maxBytes), options, redkit.prefix, redkit.instanceId, app.log)
    if (options.l1 !== null) app.log.info('redkit cache: l1 is ignored on the in-memory backend, which already lives in process')
  }
  const cacheEngine = engine
  app.decorate('cache', cacheEngine.handle(options.namespace))
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
