import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import redkit, { type RedkitOptions } from '@redkit/core'
import { uniquePrefix } from '@redkit/testing'
import redkitCache, { type CacheOptions } from '../src/index.js'

export type Target =
  | { kind: 'memory' }
  | { kind: 'redis', url: string }
  | { kind: 'cluster', nodes: Array<{ host: string, port: number }> }

/** Every test prefix starts with this, so a suite can check its own keys. */
export const PREFIX_LABEL = 'cache'

export function coreOptions (target: Target, keyPrefix: string, extra: RedkitOptions = {}): RedkitOptions {
  if (target.kind === 'memory') return { mode: 'memory', env: {}, keyPrefix, ...extra }
  if (target.kind === 'redis') return { url: target.url, env: {}, keyPrefix, ...extra }
  return { clusterNodes: target.nodes, env: {}, keyPrefix, ...extra }
}

export interface AppOptions {
  cache?: CacheOptions
  core?: RedkitOptions
  keyPrefix?: string
  /** Declares routes before the app is made ready. */
  routes?: (app: FastifyInstance) => void
}

/** A Fastify instance with core and the cache registered; closed at teardown. */
export async function makeApp (t: Test, target: Target, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  // Registered first so an app whose registration fails is still closed.
  t.teardown(async () => { await app.close().catch(() => {}) })
  await app.register(redkit, coreOptions(target, opts.keyPrefix ?? uniquePrefix(PREFIX_LABEL), opts.core))
  await app.register(redkitCache, opts.cache ?? {})
  opts.routes?.(app)
  await app.ready()
  return app
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
