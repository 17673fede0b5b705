import type { FastifyBaseLogger } from 'fastify'
import type { Redkit } from '@redkit/core'
import type { Backend, BackendEvents } from './backend.js'
import { MemoryBackend } from './memory.js'
import type { ResolvedOptions } from './options.js'
import { RedisBackend } from './redis.js'

export interface BackendOptions {
  log: FastifyBaseLogger
  events: BackendEvents
  memory: ResolvedOptions['memory']
  /** Whether an L1 copy will be kept, which needs change messages. */
  l1: boolean
}

/**
 * The one place that picks memory or Redis storage for the cache; the engine
 * sees only `Backend`. Resolves once the backend can serve.
 */
export async function createBackend (redkit: Redkit, { log, events, memory, l1 }: BackendOptions): Promise<Backend> {
  if (redkit.mode !== 'redis') {
    if (l1) log.info('redkit cache: l1 is ignored on the in-memory backend, which already lives in process')
    return new MemoryBackend(memory.max, memory.maxBytes)
  }
  const backend = new RedisBackend(redkit, log, events)
  await backend.syncClock()
  // L1 copies are only trusted while change messages arrive, so listen before serving.
  if (l1) await backend.listen().catch(() => {})
  return backend
}
