import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import redkit, { type RedkitOptions } from '@redkit/core'
import type { TestTarget } from '@redkit/testing'
import locks, { type LockPluginOptions } from '../src/index.js'

export async function makeApp (core: RedkitOptions, lock: LockPluginOptions = {}, logger: boolean | object = false): Promise<FastifyInstance> {
  const app = Fastify({ logger } as { logger: boolean })
  await app.register(redkit, core)
  await app.register(locks, lock)
  await app.ready()
  return app
}

export interface Apps {
  /** Separate app instances sharing one key prefix (the same app, repeated, in memory mode). */
  apps: FastifyInstance[]
  keyPrefix: string
}

/** Builds `instances` apps on one fresh key prefix of the target; closes them at teardown. */
export async function appsOn (t: Test, target: TestTarget, instances = 1, lock: LockPluginOptions = {}): Promise<Apps> {
  const keyPrefix = target.prefix('lock')
  const count = target.kind === 'memory' ? 1 : instances
  const apps = await Promise.all(Array.from({ length: count }, async () => await makeApp({ ...target.core, keyPrefix }, lock)))
  t.teardown(async () => { await Promise.all(apps.map(async (a) => await a.close())) })
  return { apps: Array.from({ length: instances }, (_, i) => apps[i % count]!), keyPrefix }
}

/** One app on a fresh key prefix of the target, closed at teardown. */
export async function appOn (t: Test, target: TestTarget, lock: LockPluginOptions = {}): Promise<{ app: FastifyInstance, keyPrefix: string }> {
  const { apps: [app], keyPrefix } = await appsOn(t, target, 1, lock)
  return { app: app!, keyPrefix }
}

export type Setup = (t: Test, instances?: number, lock?: LockPluginOptions) => Promise<Apps>

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Blocks the event loop, as a long GC pause or a CPU-bound handler would. */
export function stall (ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* busy */ }
}

export function code (err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code
}
