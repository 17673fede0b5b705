import type { Redkit } from '@redkit/core'
import type { Backend } from './backend.js'
import { memoryBackend } from './memory.js'
import { redisBackend } from './redis.js'

export interface BackendOptions {
  counterTtl: number
}

/** The one place that picks memory or Redis storage for locks; everything above sees only `Backend`. */
export function createBackend (redkit: Redkit, { counterTtl }: BackendOptions): Backend {
  return redkit.mode === 'redis' ? redisBackend(redkit, counterTtl) : memoryBackend(counterTtl)
}
