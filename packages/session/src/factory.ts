import type { Redkit } from '@redkit/core'
import type { SessionBackend } from './backend.js'
import { MemoryBackend } from './memory.js'
import type { ResolvedStoreOptions } from './options.js'
import { RedisBackend } from './redis.js'

/** The one place that picks memory or Redis storage for sessions; the store sees only `SessionBackend`. */
export function createBackend (redkit: Redkit, options: ResolvedStoreOptions): SessionBackend {
  return redkit.mode === 'memory' ? new MemoryBackend(options) : new RedisBackend(redkit, options)
}
