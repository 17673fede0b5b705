import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import redkit, { type RedkitOptions } from '@redkit/core'
import type { Cluster, Redis } from 'ioredis'
import rateLimit, { type RateLimitPluginOptions } from '../src/index.js'

export interface Target {
  name: string
  /** Core options for a fresh app; each call gets its own prefix unless one is given. */
  core: (prefix?: string) => RedkitOptions
  /** Admin client for assertions, or null in memory mode. */
  admin: () => Redis | Cluster | null
}

export interface TestLike { teardown: (fn: () => unknown) => void }

export async function buildApp (t: TestLike, core: RedkitOptions, opts: RateLimitPluginOptions = {},
  fastify: FastifyServerOptions = {}, setup?: (app: FastifyInstance) => void | Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ...fastify })
  t.teardown(async () => await app.close())
  await app.register(redkit, core)
  await app.register(rateLimit, opts)
  if (setup !== undefined) await setup(app)
  await app.ready()
  return app
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

export { keysWithoutTtl, countKeys } from '@redkit/testing'
