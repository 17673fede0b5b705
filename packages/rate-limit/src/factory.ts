import type { Redkit } from '@redkit/core'
import type { Backend } from './backend.js'
import { MemoryBackend } from './memory.js'
import { RedisBackend } from './redis.js'

export interface BackendOptions {
  /** Bound of the memory backend's map. */
  memoryMaxKeys: number
}

/** The one place that picks memory or Redis storage for limits; the limiter sees only `Backend`. */
export function createBackend (redkit: Redkit, { memoryMaxKeys }: BackendOptions): Backend {
  return redkit.mode === 'redis' ? new RedisBackend(redkit) : new MemoryBackend(memoryMaxKeys)
}
