import Fastify, { type FastifyInstance } from 'fastify'
import redkit, { type RedkitOptions } from '@redkit/core'
import locks, { type LockPluginOptions } from '../src/index.js'

export async function makeApp (core: RedkitOptions, lock: LockPluginOptions = {}, logger: boolean | object = false): Promise<FastifyInstance> {
  const app = Fastify({ logger } as { logger: boolean })
  await app.register(redkit, core)
  await app.register(locks, lock)
  await app.ready()
  return app
}

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
